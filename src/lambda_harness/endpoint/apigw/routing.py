"""Which stage and which route a request reaches, as API Gateway chooses them.

Stages. REST APIs: the first path segment names the stage. HTTP APIs: "If a request
explicitly matches a stage, API Gateway sends the request to that stage. If no stage
fully matches the request, API Gateway sends the request to the ``$default`` stage"
(AWS, *Working with routes for HTTP APIs*).

Routes. A route matches when its method is the request's (or ``ANY``) and its path
template matches segment by segment: ``{name}`` takes one segment, ``{proxy+}`` one
or more. Of the matches, the most specific wins: a template without a greedy
variable beats one with; then, segment by segment, a literal beats ``{name}`` beats
``{proxy+}``; then a longer greedy prefix; then an exact method beats ``ANY``.
HTTP APIs fall back to the ``$default`` route. Path parameters are URL-decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from lambda_harness.endpoint.apigw.model import ApiKind, Route

DEFAULT_STAGE = "$default"
_LITERAL, _VARIABLE, _GREEDY = 2, 1, 0


@dataclass(frozen=True)
class Match:
    """The route a request reached and its path parameters (decoded)."""

    route: Route
    path_params: dict[str, str]


def split_stage(kind: ApiKind, stage_names: Iterable[str], raw_path: str) -> tuple[str, str] | None:
    """``(stage name, raw path after the stage)`` for a request path, or None (no stage).

    The rest keeps its leading slash (``/`` when empty).
    """
    names = set(stage_names)
    first, _, rest = raw_path.lstrip("/").partition("/")
    after = "/" + rest
    if kind is ApiKind.REST:
        return (unquote(first), after) if first and unquote(first) in names else None
    if first and unquote(first) in names and unquote(first) != DEFAULT_STAGE:
        return unquote(first), after
    if DEFAULT_STAGE in names:
        return DEFAULT_STAGE, raw_path if raw_path.startswith("/") else "/" + raw_path
    return None


def segments(path: str) -> list[str]:
    """``/a//b/`` -> ``["a", "b"]`` (API Gateway ignores empty segments and trailing slashes)."""
    return [part for part in path.split("/") if part]


def _template(path: str) -> list[tuple[int, str]]:
    out = []
    for part in segments(path):
        if part.startswith("{") and part.endswith("+}"):
            out.append((_GREEDY, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            out.append((_VARIABLE, part[1:-1]))
        else:
            out.append((_LITERAL, part))
    return out


def match_path(template: str, raw_path: str) -> dict[str, str] | None:
    """Path parameters when ``raw_path`` fits ``template`` (``/items/{id}``, ``/{proxy+}``), else None."""
    parts = segments(raw_path)
    params: dict[str, str] = {}
    spec = _template(template)
    for index, (kind, text) in enumerate(spec):
        if kind == _GREEDY:
            rest = parts[index:]
            if not rest or index != len(spec) - 1:
                return None
            params[text] = unquote("/".join(rest))
            return params
        if index >= len(parts):
            return None
        if kind == _LITERAL and unquote(parts[index]) != text:
            return None
        if kind == _VARIABLE:
            params[text] = unquote(parts[index])
    return params if len(parts) == len(spec) else None


def _rank(route: Route) -> tuple[bool, tuple[int, ...], int, bool]:
    spec = _template(route.path)
    kinds = tuple(kind for kind, _ in spec)
    greedy = _GREEDY in kinds
    return (not greedy, kinds, len(spec), route.method != "ANY")


def match_route(kind: ApiKind, routes: Iterable[Route], method: str, raw_path: str) -> Match | None:
    """The route a request reaches (HTTP APIs fall back to ``$default``), or None."""
    best: tuple[tuple[bool, tuple[int, ...], int, bool], Match] | None = None
    default: Route | None = None
    for route in routes:
        if route.method == "$default":
            default = route
            continue
        if route.method not in (method.upper(), "ANY"):
            continue
        params = match_path(route.path, raw_path)
        if params is None:
            continue
        rank = _rank(route)
        if best is None or rank > best[0]:
            best = (rank, Match(route, params))
    if best is not None:
        return best[1]
    if kind is ApiKind.HTTP and default is not None:
        return Match(default, {})
    return None
