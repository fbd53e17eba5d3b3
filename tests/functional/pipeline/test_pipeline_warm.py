"""The warm loop end to end: real build, a kept embedded endpoint, real Terraform and pytest.

One endpoint is kept up for the module (as ``up --detach`` would); each test runs
``pipeline.run`` on the same worker repo, in order:

1. a fresh run applies from scratch and is attested;
2. after a handler edit, Terraform is skipped, the new code is pushed (one function
   through its S3 object, one through ``filename``), the cases see it; no attestation;
3. a Terraform change is applied (incrementally, against the kept state), and code a warm
   run pushed that the apply did not replace (the edit undone) is pushed again;
4. a restarted endpoint is detected: the kept state is discarded, the apply starts from
   scratch, and that run is attested again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_harness import pipeline
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.runtime import make_runtime
from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.errors import PromoteError
from lambda_harness.promote.attestation import read_attestation
from lambda_harness.settings import Settings, load_settings
from lambda_harness.ui import PlainUI, RecordingUI

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "warm"

if shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)


@dataclass
class Kept:
    """The repo and the endpoint kept between the tests of this module."""

    settings: Settings
    endpoint: EmbeddedEndpoint

    def restart(self) -> None:
        """Stop the endpoint and start a new one on the same port (what `down; up` does)."""
        self.endpoint.stop()
        self.endpoint = EmbeddedEndpoint(self.settings, self.endpoint.runtime, PlainUI(quiet=True)).start()


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kept]:
    repo = tmp_path_factory.mktemp("warm") / "repo"
    shutil.copytree(FIXTURE, repo)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    environ.setdefault("LAMBDA_HARNESS_TF_PLUGIN_DIR", "/opt/tf-plugins")
    settings = load_settings(repo, {"port": free_port()}, environ=environ)
    runtime = make_runtime(settings)
    endpoint = EmbeddedEndpoint(settings, runtime, PlainUI(quiet=True)).start()
    state = Kept(settings, endpoint)
    try:
        yield state
    finally:
        state.endpoint.stop()
        runtime.shutdown()


def state_file(settings: Settings) -> Path:
    return settings.paths.tf_root(settings.backend) / "terraform.tfstate"


def run(kept: Kept) -> tuple[pipeline.RunReport, RecordingUI]:
    ui = RecordingUI()
    report = pipeline.run(kept.settings, ui)
    assert report.ok, "\n".join(report.failures + ui.warnings)
    return report, ui


def test_1_fresh_endpoint_applies_from_scratch_and_attests(kept: Kept) -> None:
    report, ui = run(kept)
    assert report.deployment is not None and report.deployment.mode == "from-scratch"
    assert report.attestation is not None and read_attestation(kept.settings).results["hello"]["passed"] == 1
    assert any("no apply of this repo is recorded on this endpoint" in line for line in ui.infos)
    assert any("ran beside the tests): empty" in line for line in ui.infos)


def test_2_handler_edit_skips_terraform_and_pushes_code(kept: Kept) -> None:
    repo = kept.settings.project_dir
    state_before = state_file(kept.settings).read_bytes()
    shared = repo / "functions" / "shared" / "greeting.py"
    shared.write_text(shared.read_text().replace("hello {name}", "hi {name}"))
    expected = repo / "tests" / "integration" / "events" / "hello" / "default.expected.json"
    expected.write_text(json.dumps({"message": "hi warm", "version": "v1"}))

    report, ui = run(kept)

    assert report.deployment is not None and report.deployment.mode == "warm"
    assert state_file(kept.settings).read_bytes() == state_before  # terraform never ran
    assert not [step for step in ui.steps if step.startswith("terraform")]
    skipped = [line for line in ui.infos if line.startswith("warm: terraform skipped")]
    assert skipped and "Terraform inputs unchanged" in skipped[0] and "dists.zip changed" in skipped[0]
    assert "code of 2 function(s) updated in place" in skipped[0]  # hello via S3, echo via filename
    assert report.results["functions"]["hello"]["passed"] == 1
    assert report.attestation is None and report.not_attested == "warm run"
    assert "all functions passed; not attested: warm run" in ui.infos
    with pytest.raises(PromoteError, match="no attestation"):
        read_attestation(kept.settings)  # the fresh run's attestation is gone: promote has nothing


def test_3_unchanged_repo_pushes_nothing(kept: Kept) -> None:
    report, ui = run(kept)
    assert report.deployment is not None and report.deployment.mode == "warm"
    assert any(line.endswith("code unchanged") for line in ui.infos)


def test_4_changed_terraform_is_applied_against_the_kept_state(kept: Kept) -> None:
    repo = kept.settings.project_dir
    main = repo / "terraform" / "main.tf"
    main.write_text(main.read_text().replace('default = "blue"', 'default = "green"'))
    expected = repo / "tests" / "integration" / "events" / "echo" / "default.expected.json"
    expected.write_text(json.dumps({"echo": {"x": 1}, "colour": "green"}))
    # Test 2's edit undone: dists.zip is back to the bytes Terraform's state holds, so the apply
    # uploads nothing, and the endpoint still runs the code test 2 pushed outside Terraform.
    shared = repo / "functions" / "shared" / "greeting.py"
    shared.write_text(shared.read_text().replace("hi {name}", "hello {name}"))
    hello = repo / "tests" / "integration" / "events" / "hello" / "default.expected.json"
    hello.write_text(json.dumps({"message": "hello warm", "version": "v1"}))

    report, ui = run(kept)

    assert report.deployment is not None and report.deployment.mode == "incremental"
    changed = "Terraform inputs changed since the last apply: terraform/main.tf"
    assert any(changed in line for line in ui.infos)
    assert any(step.startswith("terraform apply") for step in ui.steps)
    assert any("earlier warm run pushed" in line and "pushed again to 2" in line for line in ui.infos)
    assert report.results["functions"]["hello"]["passed"] == 1  # the undone edit is what runs
    assert report.not_attested.startswith("incremental apply")
    # Applied and checked: the next run is warm again.
    report, _ui = run(kept)
    assert report.deployment is not None and report.deployment.mode == "warm"


def test_5_restarted_endpoint_is_detected_and_applied_from_scratch(kept: Kept) -> None:
    kept.restart()

    report, ui = run(kept)

    assert report.deployment is not None and report.deployment.mode == "from-scratch"
    assert any(
        "the endpoint was restarted since the last apply" in line and "state is discarded" in line
        for line in ui.infos
    )
    assert report.attestation is not None
