"""Make the worker repo's ``functions/`` importable for the handler unit tests.

The handlers import ``worker_lib`` as a top-level package, exactly as they do inside
``dists.zip``; so ``functions/`` goes on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_FUNCTIONS = _HERE.parents[2] / "functions"

if str(_FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(_FUNCTIONS))


@pytest.fixture
def fn_functions_dir() -> Path:
    """The worker repo's ``functions/`` folder."""
    return _FUNCTIONS
