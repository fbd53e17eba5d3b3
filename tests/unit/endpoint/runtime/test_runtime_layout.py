"""Code and layer extraction per hash (filesystem only)."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from lambda_harness.endpoint.runtime.layout import CodeStore, sha256_hex
from lambda_harness.endpoint.runtime.model import FunctionConfig, fingerprint
from lambda_harness.errors import EndpointError


def zip_of(files: dict[str, str], mode: int | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, content)
    return buf.getvalue()


def fn_for(code: bytes, layers: tuple[bytes, ...] = ()) -> FunctionConfig:
    return FunctionConfig(
        name="export_api_log",
        version="$LATEST",
        handler="app.handler",
        runtime="python3.12",
        architecture="x86_64",
        memory_mb=128,
        timeout_s=3.0,
        environment={},
        code_sha256=base64.b64encode(hashlib.sha256(code).digest()).decode(),
        code_zip=code,
        layers=layers,
        region="us-east-1",
        account_id="1",
        role_arn="r",
        reserved_concurrency=None,
        endpoint_url="http://x",
    )


def test_code_is_extracted_once_under_its_hash(tmp_path: Path) -> None:
    code = zip_of({"app.py": "X = 1\n", "pkg/mod.py": ""})
    store = CodeStore(tmp_path)
    root = store.task_root(fn_for(code))
    assert root == tmp_path / "code" / hashlib.sha256(code).hexdigest()
    assert (root / "app.py").read_text() == "X = 1\n" and (root / "pkg" / "mod.py").exists()
    (root / "app.py").write_text("changed")
    assert store.task_root(fn_for(code)) == root and (root / "app.py").read_text() == "changed"
    assert [p.name for p in (tmp_path / "code").iterdir()] == [root.name]  # no temp leftovers


def test_executable_bits_survive_extraction(tmp_path: Path) -> None:
    root = CodeStore(tmp_path).task_root(fn_for(zip_of({"bin/tool": "#!/bin/sh\n"}, mode=0o755)))
    assert (root / "bin" / "tool").stat().st_mode & 0o111


def test_hash_mismatch_and_bad_hash_and_bad_zip(tmp_path: Path) -> None:
    store = CodeStore(tmp_path)
    fn = fn_for(zip_of({"app.py": ""}))
    with pytest.raises(
        EndpointError, match="export_api_log: the deployment package does not match its CodeSha256"
    ):
        store.task_root(replace(fn, code_zip=zip_of({"app.py": "# other"})))
    with pytest.raises(EndpointError, match="is not a base64 SHA-256"):
        sha256_hex("not-base64!", "export_api_log")
    with pytest.raises(EndpointError, match="not a readable zip archive"):
        store.task_root(fn_for(b"definitely not a zip"))


def test_layers_are_merged_in_order_into_one_opt_folder(tmp_path: Path) -> None:
    first = zip_of({"python/a.py": "first", "python/only1.py": ""})
    second = zip_of({"python/a.py": "second"})
    store = CodeStore(tmp_path)
    opt = store.opt_dir(fn_for(zip_of({"app.py": ""}), (first, second)))
    assert opt is not None and (opt / "python" / "a.py").read_text() == "second"
    assert (opt / "python" / "only1.py").exists()
    assert store.opt_dir(fn_for(zip_of({"app.py": ""}))) is None


def test_fingerprint_changes_with_code_config_and_layers() -> None:
    fn = fn_for(zip_of({"app.py": ""}))
    base = fingerprint(fn, ())
    assert fingerprint(fn, ()) == base
    assert fingerprint(replace(fn, memory_mb=256), ()) != base
    assert fingerprint(replace(fn, environment={"A": "1"}), ()) != base
    assert fingerprint(replace(fn, code_sha256="other"), ()) != base
    assert fingerprint(fn, ("layerhash",)) != base
