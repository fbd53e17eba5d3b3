"""Real-repo fixtures: each pattern's repo is copied once per module and run with the real CLI."""

from __future__ import annotations

import shutil

import pytest

if shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)
