"""Handler coverage from the invocation tests: combine, map back to functions/, report.

The execution environments write one coverage.py data file each (line coverage, or
line and branch coverage; the function's name as the static context) with paths
inside the extracted zip (``.harness/runtime/code/<sha256>/...``). ``combine`` merges them into
``.harness/.coverage`` with those paths mapped back to the functions folder
(coverage's ``[paths]`` remapping), so the data combines with the repo's own
unit-test data (``coverage combine``). ``function_numbers`` gives each function's
line and branch coverage over its handler module and the shared modules it reached;
``write_reports`` writes Cobertura XML and coverage.py's HTML report;
``coverage_summary`` puts the numbers into results.json. ``merge`` combines shards'
``.harness/.coverage`` files the same way, each mapped from its own machine's
functions folder.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import coverage

from lambda_harness.errors import ConfigError
from lambda_harness.settings import Settings

#: Folders under functions/ that are not handler code (the build leaves them out too).
_SKIPPED_DIRS = {"tests", "test", "__pycache__", "node_modules"}


@dataclass(frozen=True)
class Numbers:
    """Line and branch coverage of a set of files (coverage.py's own counts)."""

    statements: int
    covered_lines: int
    branches: int
    covered_branches: int
    files: tuple[str, ...] = ()

    @property
    def percent(self) -> float:
        """coverage.py's figure: (covered lines + covered branches) / (statements + branches)."""
        total = self.statements + self.branches
        return 100.0 if total == 0 else 100.0 * (self.covered_lines + self.covered_branches) / total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``percent`` rounded to 0.1)."""
        data = asdict(self)
        data["files"] = list(self.files)
        data["percent"] = round(self.percent, 1)
        return data


def zip_sources(functions_dir: Path) -> list[str]:
    """Top-level modules (``x.py``) and packages/folders of the functions folder: what to measure."""
    if not functions_dir.is_dir():
        raise ConfigError(f"functions folder {functions_dir} does not exist; nothing to measure")
    names = []
    for entry in sorted(functions_dir.iterdir()):
        if entry.name.startswith(".") or entry.name in _SKIPPED_DIRS:
            continue
        if entry.is_dir() or entry.suffix == ".py":
            names.append(entry.name)
    return names


def python_files(functions_dir: Path) -> list[Path]:
    """Every ``.py`` of the functions folder that goes into the zip (never-imported ones count as 0%)."""
    found = []
    for path in sorted(functions_dir.rglob("*.py")):
        rel = path.relative_to(functions_dir)
        if any(part in _SKIPPED_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if rel.name.startswith(("test_", ".")) or rel.name.endswith("_test.py") or rel.name == "conftest.py":
            continue
        found.append(path)
    return found


def handler_file(functions_dir: Path, handler: str) -> Path | None:
    """``risk_ingest.app.handler`` -> ``functions/risk_ingest/app.py`` (or the package's ``__init__``)."""
    module = handler.rsplit(".", 1)[0] if "." in handler else handler
    base = functions_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def extracted_zips(code_roots: Iterable[Path]) -> list[Path]:
    """The folders the runtime extracted zips into (``<code root>/<sha256>/``): each maps to functions/.

    (coverage's ``[paths]`` takes no trailing wildcard, so each folder is named.)
    """
    return sorted(p for root in code_roots if root.is_dir() for p in root.iterdir() if p.is_dir())


def combine_config(
    functions_dir: Path, aliases_of: Iterable[Path], data_file: Path, title: str, project_dir: Path
) -> str:
    """The coverage.py configuration used to combine and report: ``[paths]`` maps each of
    ``aliases_of`` (an extracted zip, or another machine's functions folder) to functions/;
    ``source`` (the repo) makes the XML's file names relative to it, as CI tools want."""
    aliases = "\n".join(f"    {folder}/" for folder in aliases_of)
    return (
        "# Written by lambda-harness to combine the execution environments' data.\n"
        "[run]\n"
        "branch = True\n"
        f"data_file = {data_file}\n"
        f"source = {project_dir}\n"
        "disable_warnings = no-data-collected\n"
        "[paths]\n"
        f"functions =\n    {functions_dir}/\n{aliases}\n"
        "[report]\n"
        "ignore_errors = True\n"
        "[html]\n"
        "show_contexts = True\n"
        f"title = {title}\n"
    )


class RunCoverage:
    """The combined coverage of one run (or of merged shards)."""

    def __init__(self, functions_dir: Path, data_file: Path, config: Path) -> None:
        self.functions_dir = functions_dir
        self.data_file = data_file
        self.cov = coverage.Coverage(data_file=str(data_file), config_file=str(config))

    @classmethod
    def combine(
        cls,
        parts: Sequence[Path],
        *,
        functions_dir: Path,
        code_roots: Sequence[Path] = (),
        other_functions_dirs: Sequence[Path] = (),
        data_file: Path,
        project_dir: Path | None = None,
        title: str = "lambda-harness: handler coverage",
    ) -> RunCoverage:
        """Combine data files or folders of them into ``data_file`` (replaced), paths mapped to functions/.

        ``code_roots``: where the runtime extracted zips; ``other_functions_dirs``: the functions
        folders of other checkouts (shards merged on another machine).
        """
        data_file.parent.mkdir(parents=True, exist_ok=True)
        data_file.unlink(missing_ok=True)
        config = data_file.parent / f"{data_file.name}rc"
        aliases = [*extracted_zips(code_roots), *other_functions_dirs]
        project = project_dir or functions_dir.parent
        config.write_text(combine_config(functions_dir, aliases, data_file, title, project), encoding="utf-8")
        run = cls(functions_dir, data_file, config)
        present = [str(p) for p in parts if p.exists()]
        if present:
            run.cov.combine(present, keep=True)
        data = run.cov.get_data()
        data.touch_files([str(p) for p in python_files(functions_dir)])
        run.cov.save()
        return run

    def measured(self) -> list[str]:
        """Files with data, as recorded (after remapping: paths under the functions folder)."""
        return sorted(self.cov.get_data().measured_files())

    def reached_by(self, context: str) -> list[str]:
        """Files under the functions folder where ``context`` (a function name) ran at least one line."""
        data = self.cov.get_data()
        data.set_query_contexts([f"^{re.escape(context)}$"])
        try:
            return sorted(f for f in data.measured_files() if data.lines(f))
        finally:
            data.set_query_contexts(None)

    def numbers(self, files: Sequence[str], context: str | None = None) -> Numbers:
        """coverage.py's counts over ``files`` (only what ``context`` ran, when given)."""
        if not files:
            return Numbers(0, 0, 0, 0)
        contexts = [f"^{re.escape(context)}$"] if context is not None else None
        with tempfile.TemporaryDirectory(prefix="lh-cov-") as tmp:
            out = Path(tmp) / "cov.json"
            self.cov.json_report(morfs=list(files), outfile=str(out), contexts=contexts)
            totals = json.loads(out.read_text(encoding="utf-8"))["totals"]
        return Numbers(
            statements=int(totals["num_statements"]),
            covered_lines=int(totals["covered_lines"]),
            branches=int(totals.get("num_branches", 0)),
            covered_branches=int(totals.get("covered_branches", 0)),
            files=tuple(self._shown(f) for f in files),
        )

    def function_numbers(self, handlers: Mapping[str, str]) -> dict[str, Numbers]:
        """Function name -> its coverage over its handler module and the shared modules it reached."""
        out = {}
        for name, handler in sorted(handlers.items()):
            files = set(self.reached_by(name))
            own = handler_file(self.functions_dir, handler)
            if own is not None:
                files.add(str(own))
            out[name] = self.numbers(sorted(files), context=name)
        return out

    def total(self) -> Numbers:
        """Every file of the functions folder, whichever function ran it."""
        files = [f for f in self.measured() if Path(f).is_file()]
        return self.numbers(files)

    def write_reports(self, xml: Path, html: Path) -> None:
        """Cobertura XML and coverage.py's HTML report (which function ran each line)."""
        self.cov.xml_report(outfile=str(xml))
        self.cov.html_report(directory=str(html))

    def _shown(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.functions_dir.parent).as_posix()
        except ValueError:
            return path


def coverage_summary(
    run: RunCoverage,
    handlers: Mapping[str, str],
    functions: dict[str, Any],
    settings: Settings,
    *,
    mode: str,
    unsaved: Sequence[str] = (),
) -> dict[str, Any]:
    """Put each function's numbers into ``functions`` (results.json's ``functions``) and return
    results.json's top-level ``coverage``: mode, total, where the files are, what was not saved."""
    for name, numbers in run.function_numbers(handlers).items():
        functions.setdefault(name, {}).setdefault("cases", [])
        functions[name]["coverage"] = numbers.to_dict()
    out = settings.paths
    return {
        "mode": mode,
        "total": run.total().to_dict(),
        "data_file": _relative(out.coverage_data, settings.project_dir),
        "xml": _relative(out.coverage_xml, settings.project_dir),
        "html": _relative(out.coverage_html / "index.html", settings.project_dir),
        "functions_dir": str(settings.functions_dir),
        "unsaved": sorted(unsaved),
    }


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)
