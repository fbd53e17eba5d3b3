"""Sharding: a deterministic, balanced partition; merge refuses shards that do not fit together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.testing.results import RESULTS_VERSION
from lambda_harness.testing.shard import (
    Shard,
    ShardFolder,
    check_shards,
    merge_results,
    part_of,
    partition,
    weights,
)


def test_parts_are_deterministic_disjoint_and_cover_everything() -> None:
    weight = weights([f"fn{i}" for i in range(7)], {f"fn{i}": i + 1 for i in range(7)}, None)
    parts = partition(weight, 3)
    assert sorted(n for p in parts for n in p) == sorted(weight)
    assert parts == partition(dict(reversed(list(weight.items()))), 3)
    loads = [sum(weight[n] for n in p) for p in parts]
    assert max(loads) - min(loads) <= max(weight.values())
    assert part_of(Shard(2, 3), weight) == parts[1]


def test_durations_from_a_previous_run_outweigh_case_counts() -> None:
    previous = {
        "functions": {
            "slow": {"cases": [{"duration_ms": 9000.0}]},
            "fast": {"cases": [{"duration_ms": 10.0}]},
        }
    }
    weight = weights(["slow", "fast", "new"], {"slow": 1, "fast": 3, "new": 1}, previous)
    assert weight["slow"] == 9000.0 and weight["fast"] == 10.0
    assert partition(weight, 2)[0] == ["slow"]


def test_a_shard_spec_is_k_of_n() -> None:
    assert Shard.parse("2/3") == Shard(2, 3)
    for bad in ("0/3", "4/3", "x", "1-2"):
        with pytest.raises(ConfigError, match="K/N"):
            Shard.parse(bad)


def shard(index: int, total: int, functions: list[str], zip_sha: str = "z", tf: str = "t") -> dict:
    return {
        "functions": {n: {"passed": 1, "failed": 0, "cases": []} for n in functions},
        "tests": {"passed": len(functions)},
        "shard": {
            "index": index,
            "total": total,
            "functions": functions,
            "deployed": ["a", "b", "c"],
            "zip_sha256": zip_sha,
            "terraform_sha256": tf,
            "ok": True,
        },
    }


def test_matching_shards_merge_into_one_document() -> None:
    one, two = shard(1, 2, ["a", "c"]), shard(2, 2, ["b"])
    assert check_shards([("s1", one), ("s2", two)]) == []
    merged = merge_results([one, two])
    assert list(merged["functions"]) == ["a", "b", "c"] and merged["tests"] == {"passed": 3}


def test_a_missing_or_duplicated_shard_is_named() -> None:
    assert check_shards([("s1", shard(1, 3, ["a"])), ("s3", shard(3, 3, ["c"]))]) == [
        "shard 2/3 is missing",
        "function b is in no shard's part (same --durations everywhere?)",
    ]
    twice = check_shards(
        [("x", shard(1, 2, ["a", "c"])), ("y", shard(1, 2, ["a", "c"])), ("z", shard(2, 2, ["b"]))]
    )
    assert twice[0] == "shard 1/2 is given twice: x, y"
    assert "function a is tested by more than one shard: x, y" in twice


def test_shards_of_another_zip_or_terraform_are_refused() -> None:
    problems = check_shards(
        [("s1", shard(1, 2, ["a", "c"])), ("s2", shard(2, 2, ["b"], zip_sha="other", tf="x"))]
    )
    assert any("different zip" in p for p in problems) and any("different Terraform" in p for p in problems)


def test_shards_that_measured_coverage_differently_are_refused() -> None:
    one, two = shard(1, 2, ["a", "c"]), shard(2, 2, ["b"])
    one["coverage"] = {"mode": "line", "functions_dir": "/ci/functions"}
    assert check_shards([("s1", one), ("s2", two)]) == [
        "the shards measured coverage differently (s1: line, s2: off); "
        "run every shard with the same --coverage"
    ]
    two["coverage"] = {"mode": "line", "functions_dir": "/other/functions"}
    assert check_shards([("s1", one), ("s2", two)]) == []


def test_merged_results_list_the_shards_in_shard_order() -> None:
    merged = merge_results([shard(2, 2, ["b"]), shard(1, 2, ["a", "c"])])
    assert [s["index"] for s in merged["shards"]] == [1, 2]


def test_a_shard_folder_is_the_upload_or_a_harness_folder_and_names_missing_files(tmp_path: Path) -> None:
    upload = tmp_path / "shard-2"
    upload.mkdir()
    results = shard(2, 2, ["b"])
    results["version"] = RESULTS_VERSION
    results["coverage"] = {"mode": "line", "functions_dir": "/ci/functions"}
    (upload / "results.json").write_text(json.dumps(results))
    folder = ShardFolder.load(upload)
    assert (folder.index, folder.total, folder.coverage_mode, folder.functions_dir) == (
        2,
        2,
        "line",
        "/ci/functions",
    )
    assert folder.missing_files() == [
        f"{upload}: junit.xml is missing; upload it with the shard's results.json (with include-hidden-files "
        "for .coverage)",
        f"{upload}: .coverage is missing; upload it with the shard's results.json (with include-hidden-files "
        "for .coverage)",
    ]
    (upload / "junit.xml").write_text("<testsuites/>")
    (upload / ".coverage").write_text("")
    assert folder.missing_files() == []
    checkout = tmp_path / "checkout"
    (checkout / ".harness").mkdir(parents=True)
    (checkout / ".harness" / "results.json").write_text(json.dumps(results))
    assert ShardFolder.load(checkout).file("junit.xml") == checkout / ".harness" / "junit.xml"
    with pytest.raises(ConfigError, match="no readable test results"):
        ShardFolder.load(tmp_path / "nothing")


def test_shards_with_per_function_zips_compare_every_zip() -> None:
    one, two = shard(1, 2, ["a", "c"]), shard(2, 2, ["b"])
    one["shard"]["zips"] = {"build/a.zip": "1", "build/b.zip": "2"}
    two["shard"]["zips"] = {"build/a.zip": "1", "build/b.zip": "3"}
    assert check_shards([("s1", one), ("s2", two)]) == [
        "the shards tested different zips (build/b.zip); run every shard on one commit"
    ]
    two["shard"]["zips"]["build/b.zip"] = "2"
    assert check_shards([("s1", one), ("s2", two)]) == []
