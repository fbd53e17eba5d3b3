"""Helpers shared by the endpoint's functional tests (a module, so tests can import them)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from lambda_harness.settings import Settings

#: Handlers the tests deploy; each records its event as a file in OUT_DIR so tests can see deliveries.
HANDLERS = """
import json, os, pathlib, time

def _record(event, context):
    out = os.environ.get("OUT_DIR")
    if out:
        name = f"{time.time_ns()}-{context.aws_request_id}.json"
        tmp = pathlib.Path(out, name + ".tmp")  # write then rename: tests never read half a file
        tmp.write_text(json.dumps({"event": event, "request_id": context.aws_request_id}))
        tmp.rename(tmp.with_suffix(""))

def echo(event, context):
    print("event", json.dumps(event))
    return {"event": event, "code": os.environ.get("CODE", "v1"), "arn": context.invoked_function_arn}

def sink(event, context):
    _record(event, context)
    return None

def fail(event, context):
    _record(event, context)
    raise ValueError("boom")

def partial(event, context):
    _record(event, context)
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                if r["body"].startswith("bad") and r["attributes"]["ApproximateReceiveCount"] == "1"]
    return {"batchItemFailures": failures}

def slow(event, context):
    time.sleep(0.2)
    return {"ok": True}

def gated_sink(event, context):
    gate = pathlib.Path(os.environ["GATE"])
    deadline = time.monotonic() + 30
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    _record(event, context)
"""


def handler_zip(source: str = HANDLERS, extra: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    return buf.getvalue()


def make_settings(project: Path, cache: Path, port: int = 0, filesystem: str = "host") -> Settings:
    """Settings for a test endpoint; host paths by default, so handlers can record into OUT_DIR."""
    return Settings(
        project_dir=project,
        functions_dir=project / "functions",
        terraform_dir=project / "terraform",
        lock_file=None,
        dist=None,
        harness_dir=project / ".harness",
        cache_dir=cache,
        cases_dir=project / "events",
        port=port,
        filesystem=filesystem,
    )


def read_records(out_dir: Path) -> list[dict[str, Any]]:
    """What the handlers recorded, oldest first."""
    return [json.loads(p.read_text()) for p in sorted(out_dir.glob("*.json"))]
