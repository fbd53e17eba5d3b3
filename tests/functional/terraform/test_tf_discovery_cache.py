"""The discovery plan's cache against real terraform and a real moto server (follow-up 5).

A name built from a variable the harness's tfvars set (``billing-${var.env}-...``) must follow
``harness.tfvars``: changing it plans again instead of reusing the cached plan's stale names.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness.terraform import discovery
from lambda_harness.ui import PlainUI
from support.terraform import copy_repo, make_settings

pytestmark = pytest.mark.slow


def test_a_changed_harness_tfvars_plans_again(moto_url: str, tmp_path: Path) -> None:
    repo = copy_repo("module_for_each", tmp_path / "repo")
    tfvars = repo / "tests" / "integration" / "harness.tfvars"
    tfvars.write_text('env = "qa"\n')
    entered: list[str] = []

    @contextlib.contextmanager
    def endpoint() -> Iterator[str]:
        entered.append(moto_url)
        yield moto_url

    def names() -> list[str]:
        config = discovery.discover(make_settings(repo), PlainUI(io.StringIO()), endpoint)
        assert config is not None
        return sorted(fn.name for fn in config.functions)

    assert names()[0] == "billing-qa-invoices"
    assert names()[0] == "billing-qa-invoices" and len(entered) == 1  # cached: no second plan
    tfvars.write_text('env = "local"\n')
    assert names()[0] == "billing-local-invoices" and len(entered) == 2
