"""``.harness/report.html``: the run in one self-contained page (inline CSS, JS and SVG; no network).

Built from ``results.json`` alone (so ``merge`` can build it from merged shards):
the summary, one row per function (cases, results, duration and memory against the
declared limits as small SVG charts, coverage, triggers, its .tf file, advice), and
each failure with its event, the expected subset, the actual payload, a diff and the
log excerpt, and the function roles' least privilege (what each role was used for, refused,
granted but never used). Everything is escaped; nothing is fetched.
"""

from __future__ import annotations

import difflib
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_harness.fsutil import atomic_file
from lambda_harness.testing.iam import LEAST_PRIVILEGE_COLUMNS, least_privilege_rows, role_findings

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}
.summary{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.tile{border:1px solid #d8dce4;border-radius:6px;padding:8px 14px;min-width:110px}
.tile b{display:block;font-size:20px}
.ok{color:#16794a} .bad{color:#b42318} .warn{color:#9a6700}
table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #e6e8ee;padding:6px 8px;
text-align:left;vertical-align:top} th{background:#f5f6f8;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f5f6f8;border-radius:4px;padding:8px;overflow:auto;max-height:320px;margin:4px 0}
.failure{border:1px solid #f1c6c2;border-left:4px solid #b42318;border-radius:4px;padding:8px 12px;
margin:10px 0} .cols{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.advice{margin:2px 0;font-size:12px} button{font:inherit;cursor:pointer}
.del{background:#fde8e7} .add{background:#e6f4ea}
"""

_JS = """
document.querySelectorAll('button[data-toggle]').forEach(function (b) {
  b.addEventListener('click', function () {
    var el = document.getElementById(b.getAttribute('data-toggle'));
    el.hidden = !el.hidden;
    b.textContent = el.hidden ? 'show details' : 'hide details';
  });
});
document.getElementById('only-failed').addEventListener('change', function (e) {
  document.querySelectorAll('tr.fn').forEach(function (row) {
    row.hidden = e.target.checked && row.getAttribute('data-failed') === '0';
  });
});
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def bar_chart(values: list[float], limit: float | None, unit: str, label: str) -> str:
    """A small SVG bar chart of ``values`` with a dashed line at ``limit`` (the declared limit)."""
    width, height, pad = 160, 36, 2
    top = max([*values, limit or 0.0, 1e-9])
    bars = []
    step = (width - 2 * pad) / max(len(values), 1)
    for i, value in enumerate(values):
        h = max(1.0, (height - 2 * pad) * value / top)
        x = pad + i * step
        bars.append(
            f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
            f'fill="#4767d1"><title>{_e(f"{value:g} {unit}")}</title></rect>'
        )
    line = ""
    if limit:
        y = height - pad - (height - 2 * pad) * limit / top
        line = (
            f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b42318" stroke-dasharray="4 3">'
            f"<title>{_e(f'declared {limit:g} {unit}')}</title></line>"
        )
    return (
        f'<svg role="img" aria-label="{_e(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(bars)}{line}</svg>'
    )


def _function_row(name: str, fn: Mapping[str, Any]) -> str:
    cases = fn.get("cases") or []
    limits = fn.get("limits") or {}
    durations = [float(c["duration_ms"]) for c in cases if c.get("duration_ms") is not None]
    memories = [float(c["max_memory_mb"]) for c in cases if c.get("max_memory_mb") is not None]
    timeout_ms = (limits.get("declared_timeout_s") or 0) * 1000 or None
    declared_mb = limits.get("declared_memory_mb")
    failed = int(fn.get("failed", 0))
    result = f'<span class="{"bad" if failed else "ok"}">{fn.get("passed", 0)} passed, {failed} failed</span>'
    cover = fn.get("coverage")
    cover_cell = (
        "-" if not cover else f"{cover['percent']:.1f}%<br><small>{_e(', '.join(cover['files']))}</small>"
    )
    triggers = ", ".join(f"{t['kind']} {t['source']}" for t in fn.get("triggers") or []) or "-"
    tf = fn.get("tf_file") or "-"
    if fn.get("tf_file") and fn.get("tf_line"):
        tf = f"{fn['tf_file']}:{fn['tf_line']}"
    advice = "".join(
        f'<div class="advice {"warn" if a.get("level") == "warning" else ""}">{_e(a["text"])}</div>'
        for a in limits.get("advice", [])
    )
    peak = limits.get("peak_memory_mb")
    slowest = limits.get("slowest_ms")
    return (
        f'<tr class="fn" data-failed="{1 if failed else 0}" id="fn-{_e(name)}">'
        f"<td><b>{_e(name)}</b><br><small>{_e(fn.get('handler', ''))}</small></td>"
        f"<td>{len(cases)}</td><td>{result}</td>"
        f"<td>{bar_chart(durations, timeout_ms, 'ms', f'{name} durations')}<br>"
        f"<small>slowest {_e(slowest if slowest is not None else '-')} ms of "
        f"{_e(timeout_ms or '-')} ms</small></td>"
        f"<td>{bar_chart(memories, declared_mb, 'MB', f'{name} memory')}<br>"
        f"<small>peak {_e(peak if peak is not None else '-')} MB of {_e(declared_mb or '-')} MB</small></td>"
        f"<td>{cover_cell}</td><td>{_e(triggers)}</td><td><code>{_e(tf)}</code></td><td>{advice}</td></tr>"
    )


def _diff(expected: str | None, actual: str | None) -> str:
    if not expected or actual is None:
        return ""
    try:
        want = json.loads(expected)
        got = json.loads(actual)
        got = _project(got, want)
        expected, actual = (
            json.dumps(want, indent=2, sort_keys=True),
            json.dumps(got, indent=2, sort_keys=True),
        )
    except ValueError:
        pass
    lines = []
    for line in difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "expected", "actual", lineterm=""
    ):
        header = line.startswith(("---", "+++"))
        css = "" if header else "del" if line.startswith("-") else "add" if line.startswith("+") else ""
        lines.append(f'<span class="{css}">{_e(line)}</span>')
    return "<pre>" + "\n".join(lines) + "</pre>" if lines else ""


def _project(actual: Any, expected: Any) -> Any:
    """``actual`` cut down to the keys ``expected`` names (a subset match compares only those)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: _project(actual[k], v) for k, v in expected.items() if k in actual}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [_project(a, e) for a, e in zip(actual, expected, strict=True)]
    return actual


def _failures(results: Mapping[str, Any]) -> str:
    blocks = []
    for name, fn in sorted(results.get("functions", {}).items()):
        for case in fn.get("cases") or []:
            if case.get("outcome") == "passed":
                continue
            details = case.get("details") or {}
            ident = f"fail-{name}-{case['case']}"
            problems = "".join(f"<li>{_e(p)}</li>" for p in case.get("problems") or ["failed"])
            blocks.append(
                f'<div class="failure" id="{_e(ident)}"><b>{_e(name)}/{_e(case["case"])}</b>'
                f"<ul>{problems}</ul>{_diff(details.get('expected'), details.get('actual'))}"
                f'<button data-toggle="{_e(ident)}-more">hide details</button>'
                f'<div id="{_e(ident)}-more"><div class="cols">'
                f"<div>event<pre>{_e(details.get('event', '-'))}</pre></div>"
                f"<div>expected (subset)<pre>{_e(details.get('expected') or '-')}</pre></div></div>"
                f"actual payload<pre>{_e(details.get('actual', '-'))}</pre>"
                f"log excerpt<pre>{_e(case.get('log_excerpt') or '-')}</pre></div></div>"
            )
    for gate in results.get("gate", []):
        blocks.append(f'<div class="failure"><b>gate</b><ul><li>{_e(gate["message"])}</li></ul></div>')
    for other in results.get("other_failures", []):
        blocks.append(
            f'<div class="failure"><b>{_e(other.get("nodeid", "?"))}</b>'
            f"<pre>{_e(other.get('message', ''))}</pre></div>"
        )
    for text in _iam_failures(results):
        blocks.append(f'<div class="failure"><b>IAM, outside the event cases</b><pre>{_e(text)}</pre></div>')
    return "".join(blocks) or '<p class="ok">No failures.</p>'


def _iam_failures(results: Mapping[str, Any]) -> list[str]:
    """Denials no event case saw: they fail the run when enforced."""
    iam = results.get("iam") or {}
    return [str(t) for t in iam.get("denials_outside_cases_text", [])] if iam.get("mode") == "enforce" else []


def _iam_section(results: Mapping[str, Any]) -> str:
    """Function roles: per function what was used, refused, granted but unused; per role the findings."""
    rows = least_privilege_rows(results.get("functions", {}))
    if not rows:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in LEAST_PRIVILEGE_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    findings = "".join(f"<pre>{_e(text)}</pre>" for text in role_findings(results.get("functions", {}), 40))
    mode = (results.get("iam") or {}).get("mode", "-")
    return (
        f"<h2>Function roles (IAM, iam = {_e(mode)}): least privilege</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{findings}"
    )


def render(results: Mapping[str, Any], *, title: str = "lambda-harness run") -> str:
    """The whole page."""
    functions = results.get("functions", {})
    passed = sum(int(f.get("passed", 0)) for f in functions.values())
    failed = sum(int(f.get("failed", 0)) for f in functions.values())
    problems = failed + len(results.get("gate", [])) + len(results.get("other_failures", []))
    problems += len(_iam_failures(results))
    verdict = '<b class="ok">passed</b>' if not problems and functions else '<b class="bad">failed</b>'
    total = (results.get("coverage") or {}).get("total")
    cover = f"<b>{total['percent']:.1f}%</b>" if total else "<b>-</b>"
    shard = results.get("shard")
    where = f" · shard {shard['index']}/{shard['total']}" if shard else ""
    if results.get("shards"):
        where = f" · merged from {len(results['shards'])} shards"
    rows = "".join(_function_row(name, fn) for name, fn in sorted(functions.items()))
    tiles = (
        f'<div class="tile">verdict{verdict}</div>'
        f'<div class="tile">functions<b>{len(functions)}</b></div>'
        f'<div class="tile">cases passed<b class="ok">{passed}</b></div>'
        f'<div class="tile">cases failed<b class="{"bad" if failed else "ok"}">{failed}</b></div>'
        f'<div class="tile">coverage{cover}</div>'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        # No network: the page may load nothing (a CSP a browser enforces, also for a tampered file).
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><div>endpoint {_e(results.get('endpoint_url', '-'))} · region "
        f"{_e(results.get('region', '-'))}{_e(where)}</div>"
        f'<div class="summary">{tiles}</div>'
        '<h2>Functions</h2><label><input type="checkbox" id="only-failed"> only failed functions</label>'
        "<table><thead><tr><th>function</th><th>cases</th><th>results</th><th>duration vs timeout</th>"
        "<th>memory vs memory_size</th><th>coverage</th><th>triggers</th><th>.tf</th><th>advice</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        f"<h2>Failures</h2>{_failures(results)}"
        f"{_iam_section(results)}"
        f"<script>{_JS}</script></body></html>\n"
    )


def write_report(path: Path, results: Mapping[str, Any], *, title: str = "lambda-harness run") -> Path:
    """Write the page atomically; its path."""
    with atomic_file(path) as tmp:
        tmp.write_text(render(results, title=title), encoding="utf-8")
    return path
