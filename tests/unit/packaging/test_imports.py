"""The functions folder's static import graph: which functions a changed file reruns."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.packaging.imports import ImportGraph, module_name

FILES = {
    "orders/__init__.py": "",
    "orders/app.py": "from worker_lib import ddb\nfrom . import rules\n",
    "orders/rules.py": "def rule():\n    from worker_lib.log import get\n    return get\n",
    "orders/data.json": "{}",
    "reports/__init__.py": "",
    "reports/app.py": "import worker_lib.timeutil as t\n",
    "plain.py": "import json\n",
    "worker_lib/__init__.py": "from .config import settings\n",
    "worker_lib/config.py": "",
    "worker_lib/ddb.py": "import boto3\nfrom .config import settings\n",
    "worker_lib/log.py": "",
    "worker_lib/timeutil.py": "",
    "worker_lib/broken.py": "def (:\n",
}
HANDLERS = {"orders": "orders.app.handler", "reports": "reports.app.handler", "plain": "plain.handler"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def affected(root: Path, *changed: str) -> set[str]:
    return ImportGraph.scan(root).affected([root / c for c in changed], HANDLERS)


def test_module_names_follow_the_zip_root(root: Path) -> None:
    assert module_name(root / "worker_lib" / "ddb.py", root) == "worker_lib.ddb"
    assert module_name(root / "worker_lib" / "__init__.py", root) == "worker_lib"
    assert module_name(root.parent / "elsewhere.py", root) is None


@pytest.mark.parametrize(
    ("changed", "functions"),
    [
        ("orders/app.py", {"orders"}),  # its own handler
        ("orders/rules.py", {"orders"}),  # relative import
        ("worker_lib/log.py", {"orders"}),  # imported inside a function, two hops away
        ("worker_lib/ddb.py", {"orders"}),
        ("worker_lib/timeutil.py", {"reports"}),  # import a.b as x
        ("worker_lib/config.py", {"orders", "reports"}),  # through worker_lib/__init__, a parent of both
        ("worker_lib/__init__.py", {"orders", "reports"}),
        ("orders/data.json", {"orders"}),  # data belongs to its package
        ("plain.py", {"plain"}),
        ("worker_lib/broken.py", set()),  # nobody imports it
        ("README.txt", {"orders", "reports", "plain"}),  # a file at the root: anything may read it
    ],
)
def test_a_change_reruns_the_functions_that_import_it(root: Path, changed: str, functions: set[str]) -> None:
    assert affected(root, changed) == functions


def test_a_deleted_module_still_reruns_its_users(root: Path) -> None:
    (root / "worker_lib" / "timeutil.py").unlink()
    graph = ImportGraph.scan(root)
    assert graph.affected([root / "worker_lib" / "timeutil.py"], HANDLERS) == {"reports"}
