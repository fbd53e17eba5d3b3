"""Handler resolution with ast, and nearest-name suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.handlers import HandlerIndex, check_handlers, top_level_names
from lambda_harness.packaging.tfconfig import TfFunction
from lambda_harness.packaging.zipper import FileSource


def entries(tmp_path: Path, files: dict[str, str]) -> dict[str, FileSource]:
    out = {}
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out[rel] = FileSource(path)
    return out


def fn(handler: str | None, name: str = "report", tf: str = "/p/terraform/lambda_report.tf") -> TfFunction:
    return TfFunction(
        address=f"aws_lambda_function.{name}",
        name=name,
        handler=handler,
        runtime="python3.12",
        architectures=("x86_64",),
        tf_file=Path(tf),
        line=2,
        filename=None,
        filename_expr=None,
        s3_bucket=None,
        s3_key=None,
        memory_size=None,
        timeout=None,
        handler_line=4,
    )


def test_top_level_names():
    src = (
        b"import os\nfrom x import y as z\nA = 1\nb: int = 2\n"
        b"def f(): pass\nasync def g(): pass\nclass C: pass\n"
    )
    assert top_level_names(src) == {"os", "z", "A", "b", "f", "g", "C"}
    assert top_level_names(b"def (:") is None
    assert "inner" not in (top_level_names(b"def f():\n    def inner(): pass\n") or set())


def test_resolves_packages_flat_modules_slashes_and_extensions(tmp_path):
    index = HandlerIndex(
        entries(
            tmp_path,
            {
                "pc/__init__.py": "",
                "pc/app.py": "def handler(e, c):\n    pass\n",
                "flat.py": "handler = lambda e, c: None\n",
                "pkg/__init__.py": "def handler(e, c): pass\n",
                "fast.cpython-312-x86_64-linux-gnu.so": "",
            },
        ),
        code_names=set(),
    )
    for handler in ("pc.app.handler", "flat.handler", "pkg.handler", "pc/app.handler", "fast.anything"):
        assert index.problem(handler) is None, handler
    assert index.problem("nodot") is not None
    assert index.problem("pc.app.missing") == "(module pc/app.py has no top-level missing)"
    assert index.problem("nope.handler") == "(no module nope.py)"


def test_check_handlers_message_names_file_line_and_suggests(tmp_path):
    files = entries(
        tmp_path, {"reports.py": "def main(e, c): pass\n", "other.py": "def handler(e, c): pass\n"}
    )
    with pytest.raises(BuildError) as err:
        check_handlers([fn("report.main")], files, set(files), Path("/p"))
    assert str(err.value) == (
        'terraform/lambda_report.tf:4: function "report" handler "report.main" not found '
        'in dists.zip (no module report.py). Did you mean "reports.main"?'
    )


def test_check_handlers_reports_every_problem_and_unresolved(tmp_path):
    files = entries(tmp_path, {"a.py": "def handler(e, c): pass\n"})
    with pytest.raises(BuildError) as err:
        check_handlers(
            [fn("zzz.qqq", "one"), fn(None, "two"), fn("a.handler", "three")], files, set(files), Path("/p")
        )
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert "Did you mean" not in lines[0]
    assert "cannot be resolved statically" in lines[1]


def test_found_handlers(tmp_path):
    files = entries(tmp_path, {"a/__init__.py": "", "a/app.py": "def handler(e, c): pass\n"})
    (found,) = check_handlers([fn("a.app.handler", "a")], files, set(files), Path("/p"))
    assert (found.function, found.module_file, found.tf_file) == (
        "a",
        "a/app.py",
        "terraform/lambda_report.tf",
    )
