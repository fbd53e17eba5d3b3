"""Which zips the build writes: one dists.zip, or one per function and layer; per-function locks."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.artifacts import (
    KIND_FUNCTION,
    KIND_LAYER,
    KIND_PREBUILT,
    ArtifactPlan,
    plan_artifacts,
)
from lambda_harness.packaging.lockfile import load_function_lock, load_lock
from lambda_harness.packaging.tfconfig import read_config
from lambda_harness.settings import load_settings

FUNCTION = """
resource "aws_lambda_function" "{name}" {{
  function_name = "{name}"
  handler       = "{handler}"
  runtime       = "python3.12"
  role          = "r"
  filename      = "${{path.module}}/../{zip}"
  layers        = [{layers}]
}}
"""
LAYER = """
resource "aws_lambda_layer_version" "{name}" {{
  layer_name = "{name}"
  filename   = "${{path.module}}/../build/{name}.zip"
}}
"""


def repo(tmp_path: Path, functions: dict[str, tuple[str, str]], layers: tuple[str, ...] = ()) -> Path:
    tf = tmp_path / "terraform"
    tf.mkdir(parents=True)
    text = "".join(LAYER.format(name=n) for n in layers)
    for name, (handler, zip_name) in functions.items():
        refs = ", ".join(f"aws_lambda_layer_version.{n}.arn" for n in layers)
        text += FUNCTION.format(name=name, handler=handler, zip=zip_name, layers=refs)
    (tf / "main.tf").write_text(text)
    return tmp_path


def plan(root: Path) -> ArtifactPlan:
    settings = load_settings(root, {}, {"HOME": str(root)})
    config = read_config(settings.terraform_dir)
    return plan_artifacts(settings, config, config.functions)


def touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_zip_named_after_a_function_folder_is_built_from_it(tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": ("app.handler", "build/api.zip"), "job": ("job.run", "build/job.zip")})
    touch(root / "functions" / "api" / "app.py")
    touch(root / "functions" / "api" / "requirements.txt", "x==1\n")
    touch(root / "functions" / "job" / "job.py")
    result = plan(root)
    assert [(u.kind, u.root.name if u.root else None) for u in result.units] == [
        (KIND_FUNCTION, "api"),
        (KIND_FUNCTION, "job"),
    ]
    assert result.units[0].requirements == root / "functions" / "api" / "requirements.txt"
    assert result.units[1].requirements is None and not result.dist_functions


def test_handlers_from_the_functions_root_keep_one_dists_zip(tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": ("api.app.handler", "dists.zip"), "job": ("job.app.run", "dists.zip")})
    touch(root / "functions" / "api" / "app.py")
    touch(root / "functions" / "job" / "app.py")
    result = plan(root)
    assert not result.units and [f.name for f in result.dist_functions] == ["api", "job"]


def test_a_zip_named_like_a_package_whose_handler_is_rooted_above_it_is_a_dists_zip(tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": ("api.app.handler", "build/api.zip")})
    touch(root / "functions" / "api" / "app.py")
    result = plan(root)
    assert not result.units and [f.name for f in result.dist_functions] == ["api"]


def test_layers_from_a_folder_a_prebuilt_zip_or_an_error(tmp_path: Path) -> None:
    root = repo(tmp_path, {"api": ("app.handler", "build/api.zip")}, layers=("deps", "vendor"))
    touch(root / "functions" / "api" / "app.py")
    touch(root / "layers" / "deps" / "requirements.txt", "x==1\n")
    (root / "build").mkdir()
    (root / "build" / "vendor.zip").write_bytes(b"PK")
    result = plan(root)
    assert [(u.kind, u.prefix) for u in result.layers] == [(KIND_LAYER, "python/"), (KIND_PREBUILT, "")]
    (api,) = result.function_units
    assert api.functions[0].layer_files == (root / "build" / "deps.zip", root / "build" / "vendor.zip")
    (root / "build" / "vendor.zip").unlink()
    with pytest.raises(BuildError, match=r"terraform/main\.tf:\d+: aws_lambda_layer_version\.vendor uploads"):
        plan(root)


def test_a_function_lock_pinned_by_the_shared_lock(tmp_path: Path) -> None:
    touch(tmp_path / "requirements.txt", "orders-money==1.2.0 --hash=sha256:aa\nidna==3.10\n")
    touch(tmp_path / "fn" / "requirements.txt", "--find-links ../wheels\norders_money\n")
    shared = load_lock(tmp_path / "requirements.txt")
    lock = load_function_lock(tmp_path / "fn" / "requirements.txt", shared)
    assert lock.constraints == "idna==3.10\norders-money==1.2.0\n"
    assert lock.constraints_from == tmp_path / "requirements.txt" and not lock.has_hashes
    touch(tmp_path / "fn" / "requirements.txt", "\nrequests\n")
    with pytest.raises(BuildError, match=r"fn/requirements\.txt:2: 'requests' is pinned neither here nor"):
        load_function_lock(tmp_path / "fn" / "requirements.txt", shared)
    with pytest.raises(BuildError, match=r"not pinned and the repo has no shared lock"):
        load_function_lock(tmp_path / "fn" / "requirements.txt", None)
