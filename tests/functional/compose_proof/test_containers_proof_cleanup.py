"""A failing proof still stops its daemon, unmounts everything and removes its temp folder."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from compose_proof import apt
from compose_proof.checks import copy_project
from compose_proof.proof import run_proof
from lambda_harness.errors import HarnessError
from lambda_harness.ui import PlainUI

ROOT = Path(__file__).resolve().parents[3]


def _our_dockerds() -> list[int]:
    """dockerd processes that are children of this test process."""
    me = str(os.getpid())
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("Name", "").strip() == "dockerd" and fields.get("PPid", "").strip() == me:
            found.append(int(status.parent.name))
    return found


@pytest.mark.slow
def test_a_failing_image_build_leaves_no_daemon_mount_or_folder(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    try:
        apt.ensure(apt.DOCKER_NEEDS, PlainUI())
    except HarnessError as exc:
        pytest.skip(f"docker.io/docker-compose cannot be installed here: {exc}")
    project = copy_project(ROOT, tmp_path / "project")
    (project / "Dockerfile.build").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN exit 3\n")
    work = tmp_path / "work"
    work.mkdir()
    out = io.StringIO()

    code = run_proof(project, PlainUI(out), host_tests=lambda url, proj: None, work_parent=work)

    assert code == 1
    text = out.getvalue()
    assert "compose build builder endpoint ...\n" in text, text
    assert "docker compose proof failed" in text, text
    assert "left behind: no daemon, no container, no mount" in text
    assert list(work.iterdir()) == []
    assert str(work) not in Path("/proc/self/mountinfo").read_text()
    assert _our_dockerds() == []
