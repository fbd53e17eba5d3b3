"""The discovery plan runs before the build has made any zip (real terraform, real moto server).

A content-addressed code key, ``key = "lambda/${filemd5(local.bundle)}.zip"``, hashes dists.zip in
an argument the discovery override cannot null (``key`` is required). On a fresh clone that zip
does not exist yet, so Terraform stopped the plan the build needs. The harness now answers
Terraform's "no such file" for a ``.zip`` with an empty placeholder in the staged copy (never in
the repo), plans again, and removes it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness.errors import TerraformError
from lambda_harness.terraform import discovery
from lambda_harness.ui import PlainUI
from support.terraform import copy_repo, make_settings

pytestmark = pytest.mark.slow


def _content_addressed(repo: Path, key: str) -> None:
    main = repo / "terraform" / "main.tf"
    text = main.read_text()
    old = 'key    = "lambda/${local.prefix}.zip"'
    assert old in text
    main.write_text(text.replace(old, f"key    = {key}"))


def _endpoint(url: str) -> discovery.EndpointFactory:
    @contextlib.contextmanager
    def endpoint() -> Iterator[str]:
        yield url

    return endpoint


def test_a_code_key_that_hashes_the_zip_plans_before_the_build(moto_url: str, tmp_path: Path) -> None:
    repo = copy_repo("module_for_each", tmp_path / "repo")
    _content_addressed(repo, '"lambda/${filemd5(local.bundle)}.zip"')
    assert not (repo / "dists.zip").exists()
    settings = make_settings(repo)

    config = discovery.discover(settings, PlainUI(io.StringIO()), _endpoint(moto_url))

    assert config is not None
    assert sorted(fn.name for fn in config.functions)[0].startswith("billing-")
    assert all(fn.s3_key and fn.s3_key.startswith("lambda/") for fn in config.functions)
    # Nothing was written into the repo, and the placeholder is gone from the staged copy.
    assert not (repo / "dists.zip").exists()
    staged = list((repo / ".harness").rglob("dists.zip"))
    assert not [p for p in staged if p.is_file() and not p.is_symlink()], staged


def test_a_missing_file_that_is_not_a_zip_is_still_terraforms_error(moto_url: str, tmp_path: Path) -> None:
    repo = copy_repo("module_for_each", tmp_path / "repo")
    _content_addressed(repo, '"lambda/${filemd5("${path.module}/code-version.txt")}.zip"')
    settings = make_settings(repo)

    with pytest.raises(TerraformError) as failed:
        discovery.discover(settings, PlainUI(io.StringIO()), _endpoint(moto_url))

    text = str(failed.value)
    assert "terraform plan failed while reading what" in text and "code-version.txt" in text
    assert "main.tf" in text
