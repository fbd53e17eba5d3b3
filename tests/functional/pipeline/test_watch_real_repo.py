"""``watch`` on a repo whose zips only Terraform's plan reveals (archive_file in a for_each module,
a layer from a folder): real terraform, real endpoint, real handlers, real edits.

watch used to call the packaging build directly, skipping the reading of Terraform's plan that
``build`` and ``run`` do: on such a repo it wrote a stray dists.zip into the repo, built the layer
without its dependencies, and every function failed. It builds as ``run`` does now.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import net
from lambda_harness.settings import load_settings
from lambda_harness.ui import RecordingUI
from lambda_harness.watch import watch
from support.realrepos import cli_env, copy_repo, free_port

pytestmark = pytest.mark.slow


def test_watch_builds_what_terraforms_plan_names(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = copy_repo("archive_file", tmp_path / "archive_file")
    settings = load_settings(repo, {"port": free_port()}, environ=cli_env())
    handler = repo / "functions" / "notify" / "handler.py"
    ui = RecordingUI()
    seen = [0]

    def batch() -> tuple[list[str], dict[str, list[str]]]:
        infos, start = ui.infos[seen[0] :], seen[0]
        seen[0] = len(ui.infos)
        assert ui.tables, f"no table after line {start}: {ui.infos[start:]}"
        return infos, {row[0]: row for row in ui.tables[-1][1]}

    def script() -> Iterator[set[Path]]:
        infos, rows = batch()  # the first run: Terraform's plan read, every function green
        assert any("reading what Terraform deploys from its own plan" in i for i in infos), infos
        assert rows["events-ingest"][1:3] == ["1", "0"] and rows["events-notify"][1:3] == ["1", "0"]
        assert not ui.failures, ui.failures
        handler.write_text(handler.read_text().replace('"notify"', '"notified"'))
        yield {handler}

    code = watch(settings, ui, changes=script(), max_batches=1)

    infos, rows = batch()
    assert any("reran events-notify" in i for i in infos), "\n".join(infos)
    assert rows["events-notify"][1:3] == ["0", "1"]  # its expected kind is "notify": the edit shows
    assert any("events-notify/dev" in f and "notified" in f for f in ui.failures), ui.failures
    assert code == 1
    assert not (repo / "dists.zip").exists()  # no stray zip: the archives are Terraform's
    assert not net.endpoint_healthy(settings.endpoint_url)
