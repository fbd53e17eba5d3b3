"""What the shards did not check on the user's word (issue 9, items 8 and 10) reaches the
attestation ``merge`` writes: functions excluded with skip-functions and attributes waived from
the idempotency check, as each shard recorded them in its results (real files, no endpoint)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lambda_harness.pipeline import merge
from lambda_harness.promote.attestation import terraform_files, terraform_hash
from lambda_harness.settings import load_settings
from lambda_harness.ui import RecordingUI

JUNIT = (
    '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="1" '
    'failures="0" errors="0" skipped="0" time="0.1"><testcase classname="c" name="{name}" time="0.1"/>'
    "</testsuite></testsuites>"
)


def shard(folder: Path, index: int, info: dict[str, object], part: list[str], skipped: list[str]) -> Path:
    """A shard's upload: its results.json (with what run records for merge) and junit.xml."""
    function = part[0]
    folder.mkdir(parents=True)
    results = {
        "version": 1,
        "exitstatus": 0,
        "functions": {function: {"passed": 1, "failed": 0, "cases": []}},
        "gate": [],
        "tests": {"passed": 1},
        "other_failures": [],
        "skipped_functions": skipped,
        "shard": {**info, "index": index, "total": 2, "functions": part, "ok": True},
    }
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "junit.xml").write_text(JUNIT.format(name=function))
    return folder


def test_merge_attests_what_the_shards_skipped_and_waived(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "functions").mkdir(parents=True)
    (repo / "terraform").mkdir()
    (repo / "terraform" / "main.tf").write_text("# the functions\n")
    (repo / "dists.zip").write_bytes(b"PK tested")
    settings = load_settings(repo, {}, {"HOME": str(tmp_path)})
    waived = ["aws_s3_bucket.churn.tags"]
    info = {
        "zip_sha256": hashlib.sha256(b"PK tested").hexdigest(),
        "zips": {"dists.zip": hashlib.sha256(b"PK tested").hexdigest()},
        "terraform_sha256": terraform_hash(terraform_files(settings.terraform_dir)),
        "deployed": ["a", "b", "web"],
        "not_attested": "",
    }
    why = "excluded by --skip-function (runtime nodejs20.x)"
    one = shard(
        tmp_path / "up" / "1", 1, {**info, "skipped": {}, "idempotency_waived": waived}, ["a"], ["web"]
    )
    # web is shard 2's, excluded on purpose
    two_info = {**info, "skipped": {"web": why}, "idempotency_waived": waived}
    two = shard(tmp_path / "up" / "2", 2, two_info, ["b", "web"], ["web"])

    report = merge(settings, RecordingUI(), [one, two])

    assert report.ok and report.attestation is not None
    attestation = json.loads(report.attestation.read_text())
    assert attestation["results"] == {"a": {"passed": 1, "failed": 0}, "b": {"passed": 1, "failed": 0}}
    assert attestation["skipped"] == {"web": why}
    assert attestation["idempotency_waived"] == waived
    assert json.loads(settings.paths.results.read_text())["skipped_functions"] == ["web"]
