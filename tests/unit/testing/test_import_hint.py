"""The advice for ``No module named ...`` names the function's real zips and tells a missing
package from one that is there but does not load (explore P-B3)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.testing import results
from lambda_harness.testing.artifacts import BuildRecord, ImportContext
from lambda_harness.testing.results import init_error_hint

NATIVE = "Unable to import module 'main': No module named 'orjson.orjson'"


def zip_of(path: Path, *names: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, "")


def record(root: Path, layer_arch: str = "arm64") -> BuildRecord:
    """The explore report's repo B: functions in src/, one zip per function, a shared layer."""
    zip_of(root / ".build" / "geo-export.zip", "main.py")
    zip_of(
        root / ".build" / "layer.zip",
        "python/orjson/__init__.py",
        f"python/orjson/orjson.cpython-311-{'aarch64' if layer_arch == 'arm64' else 'x86_64'}-linux-gnu.so",
        "python/acme_common/__init__.py",
    )
    data: dict[str, Any] = {
        "functions_dir": "src",
        "artifacts": [
            {"path": ".build/layer.zip", "kind": "archive", "functions": [], "used_by": ["geo-export"]}
            | {"runtime": "python3.11", "architecture": layer_arch, "source": "layer", "code_sha256": "L"},
            {"path": ".build/geo-export.zip", "kind": "archive", "functions": ["geo-export"]}
            | {"runtime": "python3.11", "architecture": "x86_64", "source": "src/export", "code_sha256": "E"},
        ],
    }
    (root / ".harness").mkdir()
    (root / ".harness" / "build.json").write_text(json.dumps(data))
    loaded = BuildRecord.load(root / ".harness" / "build.json", root)
    assert loaded is not None
    return loaded


def context(root: Path, layer_arch: str = "arm64", arch: str = "x86_64") -> ImportContext:
    return record(root, layer_arch).context("geo-export", "python3.11", arch)


def test_a_native_module_of_a_layer_built_for_another_cpu(tmp_path: Path) -> None:
    hint = init_error_hint("Runtime.ImportModuleError", NATIVE, context=context(tmp_path))
    assert hint == (
        "fix: 'orjson' is in .build/layer.zip (layer, built for python3.11/arm64), but its module "
        "'orjson.orjson' did not load for the function, python3.11/x86_64: a native module built for "
        "another platform; rebuild .build/layer.zip for python3.11/x86_64"
    )
    assert "dists.zip" not in hint and "functions/" not in hint


def test_present_on_the_right_platform_still_says_present(tmp_path: Path) -> None:
    hint = init_error_hint("Runtime.ImportModuleError", NATIVE, context=context(tmp_path, "x86_64"))
    assert "'orjson' is in .build/layer.zip (layer, built for python3.11/x86_64)" in hint
    assert "present but failed to import, a wheel for another platform?" in hint


def test_an_arm64_function_on_an_x86_64_host_points_at_the_fidelity_doc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results, "host_machine", lambda: "x86_64")  # the host is an edge we cannot pick
    hint = init_error_hint("Runtime.ImportModuleError", NATIVE, context=context(tmp_path, "arm64", "arm64"))
    assert "an aarch64 native module cannot load on this x86_64 host" in hint
    assert "fidelity.md#architecture-arm64-functions-on-an-x86_64-host" in hint


def test_a_missing_package_names_the_real_zips_and_folder(tmp_path: Path) -> None:
    message = "Unable to import module 'main': No module named 'requests'"
    hint = init_error_hint("Runtime.ImportModuleError", message, context=context(tmp_path))
    assert hint.startswith("fix: 'requests' is not in .build/geo-export.zip, layer .build/layer.zip. ")
    assert "pin it in the lock file" in hint and "it belongs under src/export/ (the zip root)" in hint


def test_the_code_zip_is_found_by_deployed_sha_when_the_name_is_not_recorded(tmp_path: Path) -> None:
    found = record(tmp_path).context("other-name", "python3.11", "x86_64", code_sha256="E")
    assert found.code is not None and found.code.path == ".build/geo-export.zip"
    assert found.layers == ()


def test_without_a_build_record_no_context() -> None:
    assert BuildRecord.load(Path("/nonexistent/build.json"), Path("/nonexistent")) is None
