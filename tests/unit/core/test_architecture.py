"""The package's shape: stages import only what the architecture allows.

The allowed directions (also in docs/explanation/architecture.md): core modules
import only core modules; each stage imports core and the stages listed for
it; only ``pipeline`` wires every stage; nothing but ``__main__`` imports ``cli``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lambda_harness

PACKAGE = Path(lambda_harness.__file__).parent
CORE = {"__init__", "errors", "proc", "fsutil", "settings", "paths", "ui", "net", "events"}
STAGES = {"packaging", "endpoint", "terraform", "testing", "promote", "scaffold"}
ALLOWED: dict[str, set[str]] = {
    **{name: set(CORE) for name in CORE},
    "packaging": CORE,
    "endpoint": CORE,
    "terraform": CORE | {"packaging"},
    "testing": CORE | {"terraform"},
    "promote": CORE | {"packaging", "terraform", "testing"},
    "scaffold": CORE | {"packaging", "testing"},
    "pipeline": CORE | STAGES,
    "watch": CORE | STAGES | {"pipeline"},
    "cli": CORE | STAGES | {"pipeline", "watch"},
    "__main__": {"cli"},
}


def room(module: str) -> str:
    """``lambda_harness.endpoint.runtime.pool`` -> ``endpoint``; ``lambda_harness`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _from_package(name: str) -> str:
    """``from lambda_harness import X``: X is a module, or a name of the package itself."""
    is_module = (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name).is_dir()
    return f"lambda_harness.{name}" if is_module else "lambda_harness"


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lambda_harness":
            if node.module == "lambda_harness":
                found += [(node.lineno, _from_package(alias.name)) for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "lambda_harness"]
    return found


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_room_is_known() -> None:
    rooms = {room(module_name(p)) for p in MODULES}
    assert rooms <= set(ALLOWED), f"add these to the architecture table: {rooms - set(ALLOWED)}"
    assert rooms >= STAGES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_allowed_directions(path: Path) -> None:
    here = room(module_name(path))
    wrong = [
        f"{path.relative_to(PACKAGE)}:{line} imports {target} ({here} may not import {room(target)})"
        for line, target in imports_of(path)
        if room(target) != here and room(target) not in ALLOWED[here]
    ]
    assert not wrong, "\n".join(wrong)


def test_packaging_and_endpoint_never_meet() -> None:
    assert "endpoint" not in ALLOWED["packaging"] and "packaging" not in ALLOWED["endpoint"]


def test_a_real_violation_is_caught(tmp_path: Path) -> None:
    """The checker itself: a packaging module importing the endpoint is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from lambda_harness.endpoint.server import EmbeddedEndpoint\nimport lambda_harness.cli\n")
    targets = [t for _, t in imports_of(bad)]
    assert [room(t) for t in targets] == ["endpoint", "cli"]
    assert all(room(t) not in ALLOWED["packaging"] for t in targets)


def test_every_subpackage_says_its_job_and_what_it_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, f"{init.relative_to(PACKAGE)}: docstring must say what it may import"
