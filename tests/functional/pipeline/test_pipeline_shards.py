"""Two real shards of a small repo, then ``lambda-harness merge``, all through the CLI.

``tests/fixtures/repos/shard/`` holds three functions: ``greet`` (two cases; it calls
``shared/text.polite``), ``echo`` (one case, the quiet branch; it imports ``shared/text``)
and ``total`` (one case). Weighted by case count, shard 1/2 gets ``greet`` and shard 2/2
gets ``echo`` and ``total``.

Each shard is a separate copy of the repo and runs ``lambda-harness run --shard K/2
--coverage`` in its own process with its own endpoint (build, up, one apply, its part of
the tests): the two run in parallel. The merge job is a third copy that builds the zip
itself (the build is reproducible) and merges what a CI job uploads of each shard:
``results.json``, ``junit.xml`` and ``.coverage``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from lambda_harness import proc
from lambda_harness.endpoint.ports import free_port

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "shard"
#: What CI uploads of a shard's .harness folder (the merge needs nothing else).
ARTIFACTS = ("results.json", "junit.xml", ".coverage")
#: A shard: build, up, one apply of 3 functions (~30 s alone), tests, down; slower when both share 2 cores.
RUN_TIMEOUT_S = 600


def cli(*args: str | Path, project: Path) -> proc.Completed:
    """``lambda-harness ARGS --project PROJECT`` in a child process (exit code not checked)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    argv = [sys.executable, "-m", "lambda_harness", *map(str, args), "--project", str(project)]
    return proc.run(argv, cwd=project, env=env, check=False, timeout=RUN_TIMEOUT_S)


def run_shard(base: Path, index: int) -> tuple[Path, proc.Completed]:
    repo = base / f"shard-{index}"
    shutil.copytree(FIXTURE, repo)
    done = cli("run", "--shard", f"{index}/2", "--coverage", "--port", str(free_port()), "-q", project=repo)
    return repo, done


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both shards run (in parallel), their artifacts uploaded, the merge job's checkout built."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    base = tmp_path_factory.mktemp("shards")
    with ThreadPoolExecutor(max_workers=2) as pool:
        shards = list(pool.map(lambda k: run_shard(base, k), (1, 2)))
    for (_, done), index in zip(shards, (1, 2), strict=True):
        assert done.returncode == 0, f"shard {index}/2 failed:\n{done.output[-3000:]}"
    uploads = base / "artifacts"
    for (repo, _), index in zip(shards, (1, 2), strict=True):
        (uploads / f"shard-{index}").mkdir(parents=True)
        for name in ARTIFACTS:
            shutil.copy(repo / ".harness" / name, uploads / f"shard-{index}" / name)
    checkout = base / "merge"
    shutil.copytree(FIXTURE, checkout)
    built = cli("build", "-q", project=checkout)
    assert built.returncode == 0, built.output
    done = cli("merge", uploads / "shard-1", uploads / "shard-2", project=checkout)
    return {"base": base, "uploads": uploads, "checkout": checkout, "shards": shards, "merge": done}


def harness(merged: dict[str, Any]) -> Path:
    return Path(merged["checkout"]) / ".harness"


def results(merged: dict[str, Any]) -> dict[str, Any]:
    return json.loads((harness(merged) / "results.json").read_text())


@pytest.mark.slow
def test_each_shard_tested_its_part_only(merged: dict[str, Any]) -> None:
    parts = []
    for repo, _ in merged["shards"]:
        shard_results = json.loads((repo / ".harness" / "results.json").read_text())
        parts.append(shard_results["shard"]["functions"])
        assert sorted(shard_results["functions"]) == shard_results["shard"]["functions"]
        assert not (repo / ".harness" / "attestation.json").exists()  # a shard's verdict is partial
    assert parts == [["greet"], ["echo", "total"]]


@pytest.mark.slow
def test_merge_attests_every_function_on_the_zip_the_shards_tested(merged: dict[str, Any]) -> None:
    assert merged["merge"].returncode == 0, merged["merge"].output
    attestation = json.loads((harness(merged) / "attestation.json").read_text())
    assert attestation["results"] == {
        "echo": {"passed": 1, "failed": 0},
        "greet": {"passed": 2, "failed": 0},
        "total": {"passed": 1, "failed": 0},
    }
    shard_info = results(merged)["shards"]
    assert [s["index"] for s in shard_info] == [1, 2]
    assert {s["zip_sha256"] for s in shard_info} == {attestation["zip_sha256"]}
    assert "greet" in (harness(merged) / "report.html").read_text()


@pytest.mark.slow
def test_merge_writes_one_junit_file_in_shard_order(merged: dict[str, Any]) -> None:
    root = ElementTree.parse(harness(merged) / "junit.xml").getroot()  # our own file
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["shard 1/2", "shard 2/2"]
    names = [[case.get("name") for case in suite.iter("testcase")] for suite in suites]
    assert [n for n in names[0] if "/" in n] == ["greet/alice", "greet/anonymous"]
    assert [n for n in names[1] if "/" in n] == ["echo/ping", "total/three"]
    assert root.get("tests") == str(sum(len(n) for n in names)) and root.get("failures") == "0"
    # The same shards in another order give the same bytes.
    first = (harness(merged) / "junit.xml").read_bytes()
    uploads = Path(merged["uploads"])
    again = cli("merge", uploads / "shard-2", uploads / "shard-1", project=merged["checkout"])
    assert again.returncode == 0, again.output
    assert (harness(merged) / "junit.xml").read_bytes() == first


@pytest.mark.slow
def test_merge_combines_the_shards_coverage(merged: dict[str, Any]) -> None:
    summary = results(merged)["coverage"]
    assert summary["mode"] == "line" and summary["data_file"] == ".harness/.coverage"
    # echo.py 4/5 + greet.py 4/4 + total.py 2/2 + shared/text.py 3/4: the def lines ran in both
    # shards, polite's body only in shard 1. Neither shard alone covers 13 lines.
    assert (summary["total"]["statements"], summary["total"]["covered_lines"]) == (15, 13)
    functions = results(merged)["functions"]
    assert functions["greet"]["coverage"]["files"] == [
        "functions/greet.py",
        "functions/shared/__init__.py",  # empty, but run (coverage.py records its line 0 too)
        "functions/shared/text.py",
    ]
    greet = functions["greet"]["coverage"]
    assert (greet["statements"], greet["covered_lines"]) == (8, 7)
    assert functions["echo"]["coverage"]["percent"] == round(100 * 6 / 9, 1)
    xml = (harness(merged) / "coverage.xml").read_text()
    assert 'filename="functions/shared/text.py"' in xml and "shard-1" not in xml
    assert (harness(merged) / "coverage-html" / "index.html").is_file()


@pytest.mark.slow
def test_merge_refuses_a_missing_shard_naming_it(merged: dict[str, Any]) -> None:
    done = cli("merge", merged["uploads"] / "shard-1", project=merged["checkout"])
    assert done.returncode == 2
    assert "shard 2/2 is missing" in done.stderr
    assert not (harness(merged) / "attestation.json").exists()  # no attestation left from before


@pytest.mark.slow
def test_merge_refuses_a_shard_that_tested_another_zip_naming_both(merged: dict[str, Any]) -> None:
    # A shard of another commit: its upload records another zip (edited here rather than
    # paying a third apply; the refusal reads nothing else).
    other = Path(merged["uploads"]) / "shard-2-other-commit"
    shutil.copytree(Path(merged["uploads"]) / "shard-2", other)
    data = json.loads((other / "results.json").read_text())
    data["shard"]["zip_sha256"] = "0" * 64
    (other / "results.json").write_text(json.dumps(data))
    done = cli("merge", merged["uploads"] / "shard-1", other, project=merged["checkout"])
    assert done.returncode == 2
    assert "the shards tested a different zip" in done.stderr
    assert "shard-1: " in done.stderr and "shard-2-other-commit: 000000000000" in done.stderr
    assert not (harness(merged) / "attestation.json").exists()
