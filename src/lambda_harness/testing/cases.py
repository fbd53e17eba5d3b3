"""Event cases on disk, what they expect, and the gate that every function has one.

Layout: ``<cases_dir>/<function>/<case>.json`` is the event; beside it an
optional ``<case>.expected.json`` (a subset the decoded payload must contain)
and an optional ``<case>.error.json`` (``{"errorType": "X"}``: the case expects
that function error; an optional ``"errorMessage"`` must appear in the message).
A folder named after an API holds HTTP cases instead (``api_cases``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.errors import ConfigError

EXPECTED_SUFFIX = ".expected.json"
ERROR_SUFFIX = ".error.json"
_MISSING = object()
#: What ``EventCase.expected`` returns when the case has no expected file.
MISSING = _MISSING


@dataclass(frozen=True)
class EventCase:
    """One ``<function>/<case>.json`` and its optional expectations."""

    function: str
    name: str
    event_path: Path
    expected_path: Path | None = None
    error_path: Path | None = None

    @property
    def id(self) -> str:
        """``function/case``: the generated test's name."""
        return f"{self.function}/{self.name}"

    def event_bytes(self) -> bytes:
        """The event exactly as written (sent as the request body)."""
        return self.event_path.read_bytes()

    def expected(self) -> Any:
        """The expected payload subset, or ``_MISSING`` when there is no expected file."""
        return _MISSING if self.expected_path is None else load_json(self.expected_path)

    def expected_error(self) -> dict[str, str] | None:
        """``{"errorType": ..., ["errorMessage": ...]}`` or None when success is expected."""
        if self.error_path is None:
            return None
        data = load_json(self.error_path)
        if not isinstance(data, dict) or not isinstance(data.get("errorType"), str):
            raise ConfigError(
                f'{self.error_path}: must be a JSON object like {{"errorType": "ValueError"}}, got {data!r}'
            )
        return {k: str(v) for k, v in data.items() if k in ("errorType", "errorMessage")}


def load_json(path: Path) -> Any:
    """A case file's JSON; ConfigError naming the file when it is not readable JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc}); fix or delete the file") from exc


#: How a case file's JSON is read: ``load_json``, or a session's ``CaseFiles.load``.
Reader = Callable[[Path], Any]


class CaseFiles:
    """Each case file's JSON read once per pytest session: discovery checks every file, then
    collection asks whether a file is a request, the route gate and the test read its request;
    without this, up to 5 parses a file. Callers never modify what they get."""

    def __init__(self) -> None:
        self._data: dict[Path, Any] = {}

    def load(self, path: Path) -> Any:
        """``load_json(path)``, parsed on the first call only (an unreadable file raises each time)."""
        if path not in self._data:
            self._data[path] = load_json(path)
        return self._data[path]


def _is_case_file(path: Path) -> bool:
    return (
        path.is_file()
        and path.suffix == ".json"
        and not path.name.endswith((EXPECTED_SUFFIX, ERROR_SUFFIX))
        and not path.name.startswith(".")
    )


def discover(cases_dir: Path, read: Reader = load_json) -> dict[str, list[EventCase]]:
    """Every function folder under ``cases_dir`` and its cases (sorted; folders may be empty).

    A stray ``.expected.json``/``.error.json`` without its event is a ConfigError:
    it would otherwise silently test nothing; so is a case file that is not JSON (Lambda would
    refuse the event with InvalidRequestContentException, naming no file).
    """
    found: dict[str, list[EventCase]] = {}
    if not cases_dir.is_dir():
        return found
    for folder in sorted(p for p in cases_dir.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        found[folder.name] = _cases_in(folder, read)
    return found


def _cases_in(folder: Path, read: Reader) -> list[EventCase]:
    cases = []
    for event in sorted(p for p in folder.iterdir() if _is_case_file(p)):
        stem = event.name[: -len(".json")]
        expected = folder / f"{stem}{EXPECTED_SUFFIX}"
        error = folder / f"{stem}{ERROR_SUFFIX}"
        cases.append(
            EventCase(
                function=folder.name,
                name=stem,
                event_path=event,
                expected_path=expected if expected.is_file() else None,
                error_path=error if error.is_file() else None,
            )
        )
    for case in cases:  # every file of a case is JSON: say which one is not, before any deploy
        for path in (case.event_path, case.expected_path, case.error_path):
            if path is not None:
                read(path)
    stems = {c.name for c in cases}
    for extra in sorted(folder.iterdir()):
        for suffix in (EXPECTED_SUFFIX, ERROR_SUFFIX):
            if extra.name.endswith(suffix) and extra.name[: -len(suffix)] not in stems:
                raise ConfigError(
                    f"{extra}: no event {extra.name[: -len(suffix)]}.json beside it; "
                    "add the event or delete this file"
                )
    return cases


# --- subset matching --------------------------------------------------------------------------


def subset_diff(expected: Any, actual: Any, path: str = "$") -> list[str]:  # noqa: PLR0911 (one return per shape)
    """Where ``actual`` fails to contain ``expected`` (empty list: it matches).

    Dicts match when every expected key is present and matches; lists need
    equal length and element-wise matches; scalars must be equal (``True`` is
    not ``1``).
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {_show(actual)}"]
        diffs: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                diffs.append(f"{path}.{key}: missing (expected {_show(value)})")
            else:
                diffs.extend(subset_diff(value, actual[key], f"{path}.{key}"))
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {_show(actual)}"]
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}: {_show(actual)}"]
        diffs = []
        for i, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            diffs.extend(subset_diff(exp, act, f"{path}[{i}]"))
        return diffs
    if isinstance(expected, bool) != isinstance(actual, bool) or expected != actual:
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _show(value: Any, limit: int = 200) -> str:
    text = repr(value) if isinstance(value, bytes) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_case(case: EventCase, payload: Any, error_type: str | None, error_message: str | None) -> list[str]:
    """What is wrong with one invocation's outcome for ``case`` (empty: the case passed)."""
    want_error = case.expected_error()
    problems: list[str] = []
    if want_error is None and error_type is not None:
        problems.append(f"handler failed: {error_type}: {error_message or ''}".rstrip(": "))
        return problems
    if want_error is not None:
        if error_type is None:
            problems.append(f"expected function error {want_error['errorType']}, but the handler succeeded")
            return problems
        if error_type != want_error["errorType"]:
            problems.append(
                f"expected function error {want_error['errorType']}, got {error_type}: {error_message}"
            )
        wanted_msg = want_error.get("errorMessage")
        if wanted_msg and wanted_msg not in (error_message or ""):
            problems.append(f"expected errorMessage to contain {wanted_msg!r}, got {error_message!r}")
    expected = case.expected()
    if expected is not _MISSING:
        problems.extend(subset_diff(expected, payload))
    elif want_error is None and (status := _server_error(payload)) is not None and _is_http_event(case):
        problems.append(
            f"answered HTTP {status} to an HTTP event (API Gateway / function URL proxy response, body "
            f"{_show(payload.get('body'), 120)}): a 5xx fails a case that says nothing else; if this case "
            f'expects it, add {case.name}{EXPECTED_SUFFIX} with {{"statusCode": {status}}}'
        )
    return problems


def _server_error(payload: Any) -> int | None:
    """The status of a proxy response that is a 5xx (None otherwise)."""
    status = payload.get("statusCode") if isinstance(payload, dict) else None
    return status if isinstance(status, int) and not isinstance(status, bool) and status >= 500 else None


def _is_http_event(case: EventCase) -> bool:
    """An API Gateway (REST: ``httpMethod``) or HTTP API / function URL (``requestContext.http``) event."""
    try:
        event = load_json(case.event_path)
    except ConfigError:
        return False
    if not isinstance(event, dict):
        return False
    context = event.get("requestContext")
    return "httpMethod" in event or (isinstance(context, dict) and isinstance(context.get("http"), dict))


# --- the gate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateProblem:
    """A deployed function without event cases, or event cases for a function not deployed."""

    kind: str  # "no-cases" | "not-deployed" | "not-runnable" | "skip-unknown"
    name: str
    message: str

    @property
    def id(self) -> str:
        """Test id of the gate item for this problem."""
        return f"gate/{self.kind}/{self.name}"


def gate(
    deployed: Iterable[str],
    cases: Mapping[str, list[EventCase]],
    cases_dir: Path,
    *,
    apis: Iterable[str] = (),
    not_runnable: Mapping[str, str] | None = None,
    skipped: Collection[str] = (),
    elsewhere: Iterable[str] = (),
) -> list[GateProblem]:
    """Every deployed function needs a case; every case folder needs a deployed function or API.

    ``not_runnable`` (name -> runtime) are deployed functions the harness cannot run: each is a
    problem (untested) unless ``skipped`` lists it; a skipped function needs no case, and a
    skip that names no deployed function is a problem too (a stale exclusion hides nothing).
    ``elsewhere``: deployed functions another shard tests (neither checked nor strays here).
    """
    names = sorted(set(deployed))
    others = set(elsewhere)
    api_names = set(apis)
    blocked = dict(not_runnable or {})
    problems = []
    for name in names:
        if name in skipped:
            continue
        if name in blocked:
            problems.append(GateProblem("not-runnable", name, untested_message(name, blocked[name])))
        elif not cases.get(name):
            where = cases_dir / name
            detail = "has no <case>.json" if where.is_dir() else "does not exist"
            problems.append(
                GateProblem(
                    "no-cases",
                    name,
                    f"function {name} is deployed but has no event case: {where}/ {detail}. "
                    f"Add {where}/<case>.json (and optionally <case>.expected.json).",
                )
            )
    for folder in sorted(set(cases) - set(names) - api_names - others):
        known = ", ".join(sorted(set(names) | others)) or "(none)"
        if api_names:
            known += f"; APIs: {', '.join(sorted(api_names))}"
        problems.append(
            GateProblem(
                "not-deployed",
                folder,
                f"{cases_dir / folder}/ holds event cases for {folder}, which is not deployed. "
                f"Deployed functions: {known}. "
                "Rename the folder to the function's (or API's Terraform) name, or delete it if it is gone.",
            )
        )
    for name in sorted(set(skipped) - set(names) - others):
        everywhere = sorted(set(names) | others)
        problems.append(
            GateProblem(
                "skip-unknown",
                name,
                f"skip-functions names {name}, which is not deployed (deployed: "
                f"{', '.join(everywhere) or 'none'}); remove it from skip-functions / --skip-function",
            )
        )
    return problems


def untested_message(name: str, runtime: str) -> str:
    """Why a function the harness cannot run fails the run, and the explicit way out."""
    return (
        f"function {name} has runtime {runtime or '(none: a container image)'}, which lambda-harness cannot "
        "run: it is untested. Test it another way, then exclude it explicitly: "
        f'skip-functions = ["{name}"] in [tool.lambda-harness] (or --skip-function {name}).'
    )
