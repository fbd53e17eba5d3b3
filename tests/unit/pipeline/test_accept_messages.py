"""Acceptance: what a user reads when something is broken names the cause and the fix."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from lambda_harness.endpoint.control import down_command
from lambda_harness.errors import ConfigError, InvocationError
from lambda_harness.settings import load_settings
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.testing.invoker import Invocation, read_event_source
from lambda_harness.testing.results import (
    ResultsRecorder,
    failure_message,
    failure_texts,
    init_error_hint,
    init_failed,
    log_excerpt,
)
from lambda_harness.testing.session import source_paths
from lambda_harness.testing.smoke import classify_smoke

BOILERPLATE = (
    "[WARNING]\t2026-11-28T14:43:15.196Z\t\tLAMBDA_WARNING: Unhandled exception. The most likely cause "
    "is an issue in the function code. However, in rare cases, a Lambda runtime update can cause ..."
)


def invocation(error_type: str, message: str) -> Invocation:
    return Invocation(
        name="fn",
        status_code=200,
        payload={"errorType": error_type, "errorMessage": message},
        raw_payload=b"{}",
        function_error="Unhandled",
        error_type=error_type,
        error_message=message,
        log_tail="",
    )


def test_missing_module_hint_names_the_module_and_the_lock_file() -> None:
    hint = init_error_hint(
        "Runtime.ImportModuleError", "Unable to import module 'risk_ingest.app': No module named 'orjson._x'"
    )
    assert "'orjson' is not in the function's zip or its layers" in hint  # no build record: no names
    assert "requirements.txt, Pipfile.lock, uv.lock or poetry.lock" in hint and "functions folder" in hint


@pytest.mark.parametrize(
    ("error_type", "words"),
    [
        ("Runtime.ImportModuleError", "raised while it was imported"),
        ("Runtime.HandlerNotFound", 'handler = "module.function"'),
        ("Runtime.MalformedHandlerName", '"module.function"'),
        ("Runtime.UserCodeSyntaxError", "syntax error"),
    ],
)
def test_every_init_failure_has_a_fix(error_type: str, words: str) -> None:
    assert words in init_error_hint(error_type, "Unable to import module 'x': boom")


def test_ordinary_errors_get_no_init_hint() -> None:
    assert init_error_hint("ValueError", "No module named 'x'") == ""
    assert init_error_hint(None, None) == ""


def test_log_excerpt_drops_the_runtime_boilerplate_and_keeps_the_error() -> None:
    log = (
        f"START RequestId: 1\n{BOILERPLATE}\n"
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'a': No module named 'orjson'\n"
        "END RequestId: 1\n"
    )
    assert log_excerpt(log) == (
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'a': No module named 'orjson'"
    )


def test_smoke_failure_names_tf_file_and_fix() -> None:
    good, detail = classify_smoke(
        invocation(
            "Runtime.ImportModuleError", "Unable to import module 'lambda_a': No module named 'orjson'"
        ),
        "terraform/lambda_a.tf",
    )
    assert not good
    assert "(declared in terraform/lambda_a.tf)" in detail
    assert "'orjson' is not in the function's zip" in detail


def test_failed_hand_written_tests_are_named_in_the_failures(tmp_path: Path) -> None:
    rec = ResultsRecorder("http://x", "us-east-1")
    rec.others.append(
        {
            "nodeid": "tests/integration/test_s3.py::test_upload",
            "when": "call",
            "message": "Failed: timed out after 30s waiting for the item",
        }
    )
    rec.others.append({"nodeid": "tests/integration/test_q.py::test_q", "when": "setup", "message": "boom"})
    path = tmp_path / "results.json"
    rec.write(path, exitstatus=1)
    texts = failure_texts(json.loads(path.read_text()))
    assert texts == [
        "tests/integration/test_s3.py::test_upload: Failed: timed out after 30s waiting for the item",
        "tests/integration/test_q.py::test_q (in setup): boom",
    ]


def test_failure_message_keeps_pytests_error_lines() -> None:
    longrepr = (
        "def test_x():\n>       assert get() == 2\nE       assert 1 == 2\nE        +  where 1 = get()\n\n"
        "tests/integration/test_x.py:3: AssertionError"
    )
    assert failure_message(longrepr) == "assert 1 == 2\n    +  where 1 = get()"
    assert failure_message("just one line\nlast line") == "last line"


def test_tracebacks_point_at_functions_not_the_extracted_zip(tmp_path: Path) -> None:
    (tmp_path / "functions" / "admin").mkdir(parents=True)
    (tmp_path / "functions" / "admin" / "app.py").write_text("raise RuntimeError\n")
    settings = load_settings(tmp_path, {}, environ={})
    code = settings.harness_dir / "runtime" / "code" / ("ab" * 32)
    text = (
        f'File "{code}/admin/app.py", line 41, in handler\n'
        f'File "{code}/orjson/__init__.py", line 1, in <module>'
    )
    assert source_paths(text, settings) == (
        'File "functions/admin/app.py", line 41, in handler\n'
        f'File "{code}/orjson/__init__.py", line 1, in <module>'
    )


def test_tracebacks_from_var_task_point_at_functions(tmp_path: Path) -> None:
    """With AWS's filesystem layout the code runs from /var/task: shown where the user edits it."""
    (tmp_path / "functions" / "admin").mkdir(parents=True)
    (tmp_path / "functions" / "admin" / "app.py").write_text("raise RuntimeError\n")
    settings = load_settings(tmp_path, {}, environ={})
    text = 'File "/var/task/admin/app.py", line 41, in handler\nFile "/var/task/orjson/x.py", line 1'
    assert source_paths(text, settings) == (
        'File "functions/admin/app.py", line 41, in handler\nFile "/var/task/orjson/x.py", line 1'
    )


def test_invoke_event_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(InvocationError, match=r"the event on stdin is not JSON"):
        read_event_source("-", io.BytesIO(b"{not json"))
    bad = tmp_path / "event.json"
    bad.write_text("{'single': 'quotes'}")
    with pytest.raises(InvocationError, match=rf"event file {bad} is not JSON"):
        read_event_source(str(bad))
    assert read_event_source("-", io.BytesIO(b"[1, 2]")) == b"[1, 2]"


def test_inventory_of_the_wrong_shape_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    for text in ("[]", '{"functions": [1]}', '{"functions": [{"name": "x"}]}'):
        path.write_text(text)
        with pytest.raises(ConfigError, match="not an inventory written by lambda-harness"):
            Inventory.load(path)


def test_invoke_event_folder_is_not_called_missing(tmp_path: Path) -> None:
    with pytest.raises(InvocationError, match=r"is a folder, not a file"):
        read_event_source(str(tmp_path))


def test_down_hint_names_the_project_when_run_from_elsewhere(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {}, environ={})
    assert down_command(settings, cwd=tmp_path) == "lambda-harness down"
    assert (
        down_command(settings, cwd=tmp_path.parent) == f"lambda-harness down --project {tmp_path.resolve()}"
    )


def test_top_level_code_that_raises_fails_the_smoke_test() -> None:
    inv = invocation("KeyError", "'CONFIG_TABLE'")
    inv = dataclasses.replace(
        inv,
        log_tail=(
            "[ERROR] KeyError: 'CONFIG_TABLE'\n"
            "INIT_REPORT Init Duration: 80.00 ms\tPhase: init\tStatus: error\tError Type: KeyError\n"
            "START RequestId: r Version: $LATEST\n"
        ),
    )
    assert init_failed(inv.error_type, inv.log_tail)
    good, detail = classify_smoke(inv, "terraform/lambda_cfg.tf")
    assert not good
    assert "KeyError: 'CONFIG_TABLE' (declared in terraform/lambda_cfg.tf)" in detail
    assert "top-level code raised KeyError while it was imported" in detail


def test_a_handler_error_after_a_good_init_passes_the_smoke_test() -> None:
    inv = dataclasses.replace(invocation("KeyError", "'id'"), log_tail="START RequestId: r\n[ERROR] KeyError")
    assert not init_failed(inv.error_type, inv.log_tail)
    good, detail = classify_smoke(inv, "terraform/lambda_cfg.tf")
    assert good and "handler raised KeyError on the probe event" in detail
