"""Merging the shards' JUnit files: one file, a suite per shard in shard order, totals on the root."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.testing.junit import merge_junit

PYTEST = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
 errors="{errors}" failures="{failures}" skipped="0" tests="{tests}" time="{time}" hostname="ci">{cases}
</testsuite></testsuites>"""


def junit(folder: Path, cases: list[str], *, failures: int = 0, time: str = "1.5") -> Path:
    body = "".join(f'<testcase classname="events" name="{c}" time="0.1"/>' for c in cases)
    folder.mkdir(parents=True)
    path = folder / "junit.xml"
    path.write_text(PYTEST.format(errors=0, failures=failures, tests=len(cases), time=time, cases=body))
    return path


def test_one_suite_per_shard_in_shard_order_with_totals(tmp_path: Path) -> None:
    one = junit(tmp_path / "a", ["greet/alice", "gate"], time="1.25")
    two = junit(tmp_path / "b", ["echo/ping", "total/three", "gate"], failures=1, time="2.5")
    root = merge_junit([(2, 2, two), (1, 2, one)], tmp_path / "out" / "junit.xml")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["shard 1/2", "shard 2/2"]
    assert [c.get("name") for c in suites[1]] == ["echo/ping", "total/three", "gate"]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("time")) == (
        "5",
        "1",
        "0",
        "3.750",
    )
    assert suites[0].get("hostname") == "ci"  # the rest of pytest's attributes stay
    written = ElementTree.parse(tmp_path / "out" / "junit.xml").getroot()
    assert written.get("tests") == "5" and len(written.findall("testsuite")) == 2


def test_the_same_shards_give_the_same_bytes_in_any_order(tmp_path: Path) -> None:
    one = junit(tmp_path / "a", ["greet/alice"])
    two = junit(tmp_path / "b", ["echo/ping"])
    merge_junit([(1, 2, one), (2, 2, two)], tmp_path / "x.xml")
    merge_junit([(2, 2, two), (1, 2, one)], tmp_path / "y.xml")
    assert (tmp_path / "x.xml").read_bytes() == (tmp_path / "y.xml").read_bytes()


def test_a_bare_testsuite_root_is_read_and_a_broken_file_is_named(tmp_path: Path) -> None:
    bare = tmp_path / "bare.xml"
    bare.write_text('<testsuite name="pytest" tests="1"><testcase name="x"/></testsuite>')
    root = merge_junit([(1, 1, bare)], tmp_path / "out.xml")
    assert root.get("tests") == "1" and root.find("testsuite/testcase") is not None
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites>")
    with pytest.raises(ConfigError, match=r"broken.xml: not a readable JUnit file"):
        merge_junit([(1, 1, broken)], tmp_path / "out.xml")
