"""Layers count towards a function's 250 MB (unzipped, together); a layer folder's files go under python/."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.builder import Builder
from lambda_harness.packaging.limits import Limits
from lambda_harness.settings import load_settings
from lambda_harness.ui import RecordingUI

TF = """
resource "aws_lambda_layer_version" "big" {
  layer_name = "big"
  filename   = "${path.module}/../build/big.zip"
}

resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = "r"
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "${path.module}/../build/api.zip"
  layers        = [aws_lambda_layer_version.big.arn]
}
"""


def repo(tmp_path: Path) -> Path:
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text(TF)
    (tmp_path / "functions" / "api").mkdir(parents=True)
    (tmp_path / "functions" / "api" / "app.py").write_text("def handler(e, c):\n    return 1\n# " + "-" * 400)
    (tmp_path / "layers" / "big").mkdir(parents=True)
    (tmp_path / "layers" / "big" / "blob.py").write_text("DATA = '" + "x" * 3000 + "'\n")
    return tmp_path


def build(root: Path, limit: int) -> Builder:
    settings = load_settings(root, {"cache_dir": root / "cache"}, {"HOME": str(root)})
    builder = Builder(settings, RecordingUI(), limits=Limits(unzipped_max=limit))
    builder.build()
    return builder


def test_the_layer_folder_goes_under_python(tmp_path: Path) -> None:
    import zipfile

    root = repo(tmp_path)
    build(root, 10_000)
    with zipfile.ZipFile(root / "build" / "big.zip") as zf:
        assert zf.namelist() == ["python/blob.py"]


def test_a_function_and_its_layers_over_the_limit_fail_together(tmp_path: Path) -> None:
    root = repo(tmp_path)
    with pytest.raises(
        BuildError,
        match=r"api: build/api\.zip \(0\.0 MB\) with its layers \(build/big\.zip 0\.0 MB\) unzips to",
    ):
        build(root, 3_200)  # the function (~440 B) and the layer (~3010 B) are each below, together over
