"""Sharding: which functions a ``run --shard K/N`` tests, and merging the shards' results.

``merge`` reads what CI uploads of each shard (``ShardFolder``: ``results.json``,
``junit.xml`` and, with coverage, ``.coverage``, in a folder or in its ``.harness/``).

The part is deterministic: every shard computes the same partition from the same
inputs (the deployed function names, each function's weight). A weight is the sum
of the function's case durations in a previous ``results.json`` (``--durations``),
else its number of event cases. Functions go, heaviest first (name as tie-break),
to the least-loaded shard (lowest index as tie-break).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.errors import ConfigError
from lambda_harness.testing.results import load_results

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``total`` (1-based)."""

    index: int
    total: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``2/3`` -> Shard(2, 3); ConfigError for anything else."""
        match = _SPEC.match(text)
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise ConfigError(f"--shard {text!r}: write K/N with 1 <= K <= N, e.g. --shard 2/3")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def weights(
    names: Iterable[str], case_counts: Mapping[str, int], durations: Mapping[str, Any] | None
) -> dict[str, float]:
    """Per function: total case duration (ms) from a previous results file, else its case count."""
    names = sorted(set(names))
    if not durations:
        return {name: float(max(case_counts.get(name, 0), 1)) for name in names}
    measured: dict[str, float] = {}
    for name, fn in (durations.get("functions") or {}).items():
        times = [float(c.get("duration_ms") or c.get("wall_ms") or 0.0) for c in fn.get("cases") or []]
        if times:
            measured[name] = sum(times)
    per_case = statistics.median([measured[n] / max(case_counts.get(n, 1), 1) for n in measured] or [1.0])
    return {name: measured.get(name, per_case * max(case_counts.get(name, 0), 1)) for name in names}


def partition(weight: Mapping[str, float], total: int) -> list[list[str]]:
    """``total`` parts: heaviest first to the least-loaded part (deterministic)."""
    parts: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for name in sorted(weight, key=lambda n: (-weight[n], n)):
        target = min(range(total), key=lambda i: (loads[i], i))
        parts[target].append(name)
        loads[target] += weight[name]
    return [sorted(p) for p in parts]


def part_of(shard: Shard, weight: Mapping[str, float]) -> list[str]:
    """The function names shard ``shard`` tests."""
    return partition(weight, shard.total)[shard.index - 1]


# --- merge -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardFolder:
    """One shard's uploaded files: ``results.json``, ``junit.xml``, ``.coverage``.

    ``folder`` is the folder they were downloaded into, or a shard's checkout or its
    ``.harness`` folder (then they are under ``.harness/``).
    """

    where: str
    folder: Path
    results: dict[str, Any]

    @classmethod
    def load(cls, folder: Path) -> ShardFolder:
        """Read the shard's results.json (ConfigError naming the file when it is missing or broken)."""
        base = folder if (folder / "results.json").is_file() else folder / ".harness"
        return cls(str(folder), base, load_results(base / "results.json"))

    def file(self, name: str) -> Path:
        return self.folder / name

    @property
    def index(self) -> int:
        """The shard's K (0 for results that are not a shard's: check_shards names those)."""
        return int((self.results.get("shard") or {}).get("index") or 0)

    @property
    def total(self) -> int:
        return int((self.results.get("shard") or {}).get("total") or 0)

    @property
    def coverage_mode(self) -> str | None:
        """``line`` or ``branch`` when the shard measured coverage, else None."""
        coverage = self.results.get("coverage")
        return str(coverage.get("mode") or "branch") if isinstance(coverage, Mapping) else None

    @property
    def functions_dir(self) -> str | None:
        """The functions folder on the shard's machine (its coverage data's paths start there)."""
        coverage = self.results.get("coverage")
        return str(coverage["functions_dir"]) if isinstance(coverage, Mapping) else None

    def missing_files(self) -> list[str]:
        """The files this shard's results need beside them, and are not there."""
        wanted = ["junit.xml"] + ([".coverage"] if self.coverage_mode else [])
        return [
            f"{self.where}: {name} is missing; upload it with the shard's results.json "
            "(with include-hidden-files for .coverage)"
            for name in wanted
            if not self.file(name).is_file()
        ]


def check_shards(shards: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """What makes a set of shard results unmergeable (empty: they fit together).

    Each entry is (where it came from, its results). Every shard 1..N exactly once, one N,
    one zip hash, one Terraform hash, one deployment, and every deployed function in
    exactly one shard's part.
    """
    infos: list[tuple[str, Mapping[str, Any]]] = []
    problems = []
    for where, results in shards:
        info = results.get("shard")
        if not info:
            problems.append(f"{where}: not a shard's results (run with --shard K/N)")
        else:
            infos.append((where, info))
    if problems:
        return problems
    totals = {int(info["total"]) for _, info in infos}
    if len(totals) != 1:
        shown = ", ".join(f"{w}: {i['index']}/{i['total']}" for w, i in infos)
        return [f"shards of different totals: {shown}"]
    return _indexes(infos, totals.pop()) + _same_inputs(infos) + _coverage(infos) + _coverage_modes(shards)


def _indexes(infos: Sequence[tuple[str, Mapping[str, Any]]], total: int) -> list[str]:
    seen: dict[int, list[str]] = {}
    for where, info in infos:
        seen.setdefault(int(info["index"]), []).append(where)
    problems = []
    for index in range(1, total + 1):
        if index not in seen:
            problems.append(f"shard {index}/{total} is missing")
        elif len(seen[index]) > 1:
            problems.append(f"shard {index}/{total} is given twice: {', '.join(seen[index])}")
    return problems


def _same_inputs(infos: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    problems = []
    for key, what in (("zip_sha256", "zip"), ("terraform_sha256", "Terraform")):
        if len({str(info.get(key)) for _, info in infos}) != 1:
            detail = ", ".join(f"{w}: {str(i.get(key))[:12]}" for w, i in infos)
            problems.append(f"the shards tested a different {what} ({detail}); run every shard on one commit")
    zips = {where: info.get("zips") or {} for where, info in infos}
    if not problems and len({tuple(sorted(z.items())) for z in zips.values()}) != 1:
        names = sorted(
            {n for z in zips.values() for n in z if len({str(zs.get(n)) for zs in zips.values()}) > 1}
        )
        problems.append(
            f"the shards tested different zips ({', '.join(names)}); run every shard on one commit"
        )
    return problems


def _coverage(infos: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    deployed = {tuple(sorted(info.get("deployed") or [])) for _, info in infos}
    if len(deployed) != 1:
        return ["the shards deployed different functions; run every shard on one commit"]
    owners: dict[str, list[str]] = {}
    for where, info in infos:
        for name in info.get("functions") or []:
            owners.setdefault(name, []).append(where)
    problems = []
    for name in next(iter(deployed)):
        if name not in owners:
            problems.append(f"function {name} is in no shard's part (same --durations everywhere?)")
        elif len(owners[name]) > 1:
            problems.append(f"function {name} is tested by more than one shard: {', '.join(owners[name])}")
    return problems


def _coverage_modes(shards: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    modes = {where: str((r.get("coverage") or {}).get("mode") or "off") for where, r in shards}
    if len(set(modes.values())) <= 1:
        return []
    shown = ", ".join(f"{w}: {m}" for w, m in modes.items())
    return [f"the shards measured coverage differently ({shown}); run every shard with the same --coverage"]


def merge_results(shards: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One results document from every shard's: functions, gate, counts, failures."""
    first = shards[0]
    merged: dict[str, Any] = {
        "version": first.get("version"),
        "endpoint_url": first.get("endpoint_url", ""),
        "region": first.get("region", ""),
        "exitstatus": max(int(s.get("exitstatus") or 0) for s in shards),
        "functions": {},
        "gate": [],
        "tests": {},
        "other_failures": [],
        "shards": sorted((dict(s["shard"]) for s in shards), key=lambda info: int(info["index"])),
    }
    for results in shards:
        merged["functions"].update(results.get("functions") or {})
        merged["gate"] += results.get("gate") or []
        merged["other_failures"] += results.get("other_failures") or []
        for outcome, count in (results.get("tests") or {}).items():
            merged["tests"][outcome] = merged["tests"].get(outcome, 0) + int(count)
    merged["functions"] = dict(sorted(merged["functions"].items()))
    return merged
