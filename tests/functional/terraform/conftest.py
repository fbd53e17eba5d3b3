"""Real terraform against a real moto server (fixture ``moto_url`` from ``support.moto_server``)."""

from __future__ import annotations

import io

import pytest

from lambda_harness import proc
from lambda_harness.ui import PlainUI

if proc.shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)


@pytest.fixture
def ui() -> PlainUI:
    return PlainUI(io.StringIO())
