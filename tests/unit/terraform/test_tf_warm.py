"""The warm loop's pure parts: the inputs it fingerprints, its decision, bindings from state, the push."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.settings import Settings, load_settings
from lambda_harness.terraform import warm
from lambda_harness.terraform.warm import Binding, NeedApply, WarmRecord


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "main.tf").write_text(
        'module "queue" {\n  source = "../modules/queue"\n}\n'
        'resource "aws_iam_policy" "p" {\n  policy = file("${path.module}/../policies/p.json")\n}\n'
        'resource "aws_s3_object" "d" {\n  source = "${path.module}/../dists.zip"\n}\n'
        'data "archive_file" "a" {\n  source_dir = "${path.module}/../functions"\n}\n'
        'locals {\n  root = "${path.module}/.."\n}\n'
    )
    (tf / "prod.tfvars").write_text('colour = "blue"\n')
    (tf / ".terraform.lock.hcl").write_text("# lock\n")
    (tf / ".terraform").mkdir()
    (tf / ".terraform" / "junk").write_text("x")
    (tf / "terraform.tfstate").write_text("{}")
    (tf / "layer.zip").write_bytes(b"zip")
    module = tmp_path / "modules" / "queue"
    module.mkdir(parents=True)
    (module / "main.tf").write_text('resource "x" "y" {\n  t = templatefile("${path.module}/t.tpl", {})\n}\n')
    (module / "t.tpl").write_text("tpl")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.json").write_text("{}")
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "app.py").write_text("x = 1")
    (tmp_path / "dists.zip").write_bytes(b"zip")
    return load_settings(tmp_path, environ={"HOME": str(tmp_path)})


def labels(settings: Settings) -> list[str]:
    return [warm._label(p, settings.project_dir) for p in warm.staged_inputs(settings)]


def test_inputs_are_what_terraform_reads_without_artifacts_or_working_data(settings: Settings) -> None:
    assert labels(settings) == [
        "modules/queue/main.tf",
        "modules/queue/t.tpl",
        "policies/p.json",
        "terraform/.terraform.lock.hcl",
        "terraform/main.tf",
        "terraform/prod.tfvars",
    ]


def test_fingerprint_moves_with_terraform_inputs_and_settings_not_with_code(settings: Settings) -> None:
    first, inputs = warm.fingerprint(settings)
    assert inputs["setting backend"] == "embedded" and "setting harness" in inputs
    (settings.project_dir / "functions" / "app.py").write_text("x = 2")
    (settings.project_dir / "dists.zip").write_bytes(b"other zip")
    assert warm.fingerprint(settings)[0] == first
    (settings.project_dir / "modules" / "queue" / "t.tpl").write_text("changed")
    second, after = warm.fingerprint(settings)
    assert second != first and warm.changed_inputs(inputs, after) == ["modules/queue/t.tpl"]
    assert warm.fingerprint(settings.with_(region="eu-west-1"))[0] != second
    assert warm.fingerprint(settings.with_(workspace="dev"))[0] != second  # another state, names


RECORD = WarmRecord("instance_id:a", "http://127.0.0.1:9", "fp", {"terraform/main.tf": "1"})


def decide(record: WarmRecord | None, identity: str | None, fp: str = "fp", **kw: Any) -> warm.Decision:
    options = {"state_exists": True, "inventory_exists": True, **kw}
    return warm.decide(record, identity, (fp, {"terraform/main.tf": "2" if fp != "fp" else "1"}), **options)


def test_same_endpoint_and_inputs_is_warm() -> None:
    decision = decide(RECORD, "instance_id:a")
    assert decision.warm and "unchanged" in decision.reason


def test_changed_inputs_apply_incrementally_and_name_the_file() -> None:
    decision = decide(RECORD, "instance_id:a", fp="other")
    assert not decision.warm and not decision.discard_state
    assert decision.reason == "Terraform inputs changed since the last apply: terraform/main.tf"


def test_restarted_endpoint_discards_the_state() -> None:
    decision = decide(RECORD, "instance_id:b")
    assert not decision.warm and decision.discard_state and "restarted" in decision.reason


def test_unknown_endpoint_has_no_warm_loop_and_keeps_its_state() -> None:
    decision = decide(RECORD, None)
    assert not decision.warm and not decision.discard_state
    assert "does not say which instance" in decision.reason


def test_unfinished_apply_opt_out_and_missing_state_are_not_warm() -> None:
    unfinished = WarmRecord("instance_id:a", "u")
    assert "did not finish" in decide(unfinished, "instance_id:a").reason
    assert "--no-warm" in decide(RECORD, "instance_id:a", allow_warm=False).reason
    assert not decide(RECORD, "instance_id:a", state_exists=False).warm


def test_no_record_discards_a_leftover_state_only_when_there_is_one() -> None:
    assert decide(None, "instance_id:a").discard_state
    assert not decide(None, "instance_id:a", state_exists=False).discard_state


def show(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"values": {"root_module": {"resources": list(resources), "child_modules": []}}}


def res(rtype: str, **values: Any) -> dict[str, Any]:
    return {"type": rtype, "mode": "managed", "values": values}


ARN = "arn:aws:lambda:eu-west-1:123456789012:function:"


def test_bindings_follow_s3_objects_and_filenames_back_to_repo_files(tmp_path: Path) -> None:
    workdir = tmp_path / "tree" / "terraform"
    workdir.mkdir(parents=True)
    (tmp_path / "tree" / "dists.zip").write_bytes(b"z")
    (tmp_path / "tree" / "layer.zip").write_bytes(b"l")
    state = show(
        res("aws_s3_object", bucket="b", key="k", source="./../dists.zip"),
        res("aws_s3_object", bucket="b", key="cfg", source="../layer.zip"),
        res("aws_lambda_function", function_name="a", s3_bucket="b", s3_key="k", arn=ARN + "a"),
        res("aws_lambda_function", function_name="c", filename="../dists.zip", arn=ARN + "c"),
        res("aws_lambda_function", function_name="img", package_type="Image", arn=ARN + "img"),
    )
    bindings, pinned = warm.read_bindings(state, workdir)
    zip_path = str((tmp_path / "tree" / "dists.zip").resolve())
    assert bindings == [
        Binding("a", "eu-west-1", zip_path, "b", "k"),
        Binding("c", "eu-west-1", zip_path),
    ]
    assert pinned == {str((tmp_path / "tree" / "layer.zip").resolve()): hashlib.sha256(b"l").hexdigest()}


class FakeLambda:
    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def update_function_code(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("update", kw))
        return {"CodeSha256": "new-" + kw["FunctionName"]}

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        self.calls.append(("get", FunctionName))
        return {"State": "Active", "LastUpdateStatus": "Successful"}


class FakeS3:
    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def put_object(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("put", (kw["Bucket"], kw["Key"], kw["Body"])))
        return {"VersionId": "v2"}


def test_push_uploads_each_object_once_then_updates_every_bound_function(tmp_path: Path) -> None:
    dist = tmp_path / "dists.zip"
    dist.write_bytes(b"new")
    other = tmp_path / "other.zip"
    other.write_bytes(b"same")
    record = WarmRecord(
        "i",
        "u",
        "fp",
        bindings=[
            Binding("a", "r", str(dist), "b", "k"),
            Binding("b", "r", str(dist), "b", "k", versioned=True),
            Binding("c", "r", str(dist)),
            Binding("d", "r", str(other)),
        ],
        artifacts={str(dist): "old", str(other): hashlib.sha256(b"same").hexdigest()},
    )
    calls: list[tuple[str, Any]] = []
    clients = {"lambda": FakeLambda(calls), "s3": FakeS3(calls)}
    pushed = warm.push_code(record, lambda service, region: clients[service])
    assert calls[:4] == [
        ("put", ("b", "k", b"new")),
        ("update", {"FunctionName": "a", "S3Bucket": "b", "S3Key": "k"}),
        ("update", {"FunctionName": "b", "S3Bucket": "b", "S3Key": "k", "S3ObjectVersion": "v2"}),
        ("update", {"FunctionName": "c", "ZipFile": b"new"}),
    ]
    assert [c for c in calls if c[0] == "get"] == [("get", "a"), ("get", "b"), ("get", "c")]
    assert pushed.functions == {"a": "new-a", "b": "new-b", "c": "new-c"}
    assert pushed.record.artifacts[str(dist)] == hashlib.sha256(b"new").hexdigest()
    assert warm.changed_artifacts(pushed.record) == ([], [])


class RunningCode:
    """A lambda client that says which code each function runs (CodeSha256, base64)."""

    def __init__(self, running: dict[str, bytes]) -> None:
        self.running = running

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        digest = hashlib.sha256(self.running[FunctionName]).digest()
        return {"CodeSha256": base64.b64encode(digest).decode()}


def test_stale_code_marks_artifacts_a_function_does_not_run(tmp_path: Path) -> None:
    dist, other = tmp_path / "dists.zip", tmp_path / "other.zip"
    dist.write_bytes(b"applied")
    other.write_bytes(b"same")
    record = WarmRecord(
        "i",
        "u",
        "fp",
        bindings=[Binding("a", "r", str(dist), "b", "k"), Binding("c", "r", str(other))],
        artifacts={str(dist): warm.artifact_sha256(str(dist)), str(other): warm.artifact_sha256(str(other))},
    )
    # "a" still runs what an earlier warm run pushed; "c" runs its artifact.
    lam = RunningCode({"a": b"pushed by a warm run", "c": b"same"})
    stale = warm.stale_code(record, lambda service, region: lam)
    assert warm.changed_artifacts(stale) == ([str(dist)], [])
    assert stale.artifacts[str(other)] == record.artifacts[str(other)]
    lam.running["a"] = b"applied"
    assert warm.stale_code(record, lambda service, region: lam) == record

    def broken(service: str, region: str) -> Any:
        raise RuntimeError("endpoint gone")

    with pytest.raises(NeedApply, match="reading the code of a on the endpoint failed"):
        warm.stale_code(record, broken)


def test_a_changed_layer_or_a_vanished_artifact_needs_terraform(tmp_path: Path) -> None:
    layer = tmp_path / "layer.zip"
    layer.write_bytes(b"v2")
    record = WarmRecord("i", "u", "fp", pinned={str(layer): "old"})
    with pytest.raises(NeedApply, match=r"layer\.zip changed"):
        warm.push_code(record, lambda service, region: None)
    gone = WarmRecord("i", "u", "fp", artifacts={str(tmp_path / "gone.zip"): "old"})
    with pytest.raises(NeedApply, match="no longer exists"):
        warm.push_code(gone, lambda service, region: None)


def test_record_round_trips_and_an_unreadable_one_is_none(tmp_path: Path) -> None:
    path = tmp_path / "warm.json"
    record = WarmRecord("i", "u", "fp", {"a": "1"}, [Binding("f", "r", "/x", "b", "k")], {"/x": "1"})
    record.save(path)
    assert WarmRecord.load(path) == record
    path.write_text("{not json")
    assert WarmRecord.load(path) is None
    assert WarmRecord.load(tmp_path / "missing.json") is None


def test_an_artifact_inside_the_staged_terraform_folder_is_the_real_folders_file(tmp_path: Path) -> None:
    """An archive_file output under terraform/ is a copy in the staged tree; the build writes the real one."""
    workdir = tmp_path / "tree" / "terraform"
    (workdir / "build").mkdir(parents=True)
    (workdir / "build" / "fn.zip").write_bytes(b"staged copy")
    real = tmp_path / "repo" / "terraform"
    state = show(res("aws_lambda_function", function_name="fn", filename="./build/fn.zip", arn=ARN + "fn"))
    bindings, _pinned = warm.read_bindings(state, workdir, real)
    assert bindings == [Binding("fn", "eu-west-1", str(real.resolve() / "build" / "fn.zip"))]


def test_files_the_configuration_reads_need_terraform_but_a_handler_edit_does_not(settings: Settings) -> None:
    """explore P-B1: a handler named in functions/<f>/function.json, function folders by fileset()."""
    folder = settings.project_dir / "functions" / "export"
    folder.mkdir()
    (folder / "main.py").write_text("def handler(event, context):\n    return 1\n")
    (folder / "function.json").write_text('{"handler": "main.handler"}\n')
    first, inputs = warm.fingerprint(settings)
    (folder / "main.py").write_text("def handler(event, context):\n    return 2\n")
    assert warm.fingerprint(settings)[0] == first
    (folder / "function.json").write_text('{"handler": "main.other"}\n')
    after = warm.fingerprint(settings)[1]
    assert warm.changed_inputs(inputs, after) == ["functions/export/function.json"]
    (settings.project_dir / "functions" / "report").mkdir()
    (settings.project_dir / "functions" / "report" / "main.py").write_text("x = 1\n")
    assert warm.changed_inputs(after, warm.fingerprint(settings)[1]) == ["functions/report/main.py"]
