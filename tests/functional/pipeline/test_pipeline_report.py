"""``run --coverage=branch`` on a small repo with known shapes: coverage, advice and the HTML report.

``tests/fixtures/repos/report/`` holds four functions: ``branchy`` (an if/else; its case takes one branch;
it imports ``common/util.py``), ``hungry`` (allocates the MB its event asks for, 1024 MB
declared), ``slow`` (sleeps 0.7 s of a 1 s timeout) and ``broken`` (returns a wrong total:
the run fails). One real run (build, embedded endpoint, Terraform, pytest) serves every test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from lambda_harness import pipeline
from lambda_harness.settings import load_settings
from lambda_harness.ui import PlainUI

REPO = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "report"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.RunReport, Path]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = tmp_path_factory.mktemp("report") / "repo"
    shutil.copytree(REPO, repo)
    settings = load_settings(repo, {"port": free_port(), "coverage": "branch"}, environ=dict(os.environ))
    return pipeline.run(settings, PlainUI(quiet=True)), repo


def results(ran: tuple[pipeline.RunReport, Path]) -> dict[str, Any]:
    return json.loads((ran[1] / ".harness" / "results.json").read_text())


@pytest.mark.slow
def test_the_failing_function_fails_the_run(ran: tuple[pipeline.RunReport, Path]) -> None:
    report, _ = ran
    assert not report.ok
    assert any("broken/sum" in f and "expected 42, got 41" in f for f in report.failures)


@pytest.mark.slow
def test_coverage_of_a_handler_is_counted_exactly(ran: tuple[pipeline.RunReport, Path]) -> None:
    branchy = results(ran)["functions"]["branchy"]["coverage"]
    # lambda_branchy.py: 6 statements, 5 run; its if has 2 branches, the case takes 1.
    # common/util.py (reached): 4 statements, 3 run.
    assert branchy == {
        "statements": 10,
        "covered_lines": 8,
        "branches": 2,
        "covered_branches": 1,
        "percent": 75.0,
        "files": ["functions/common/util.py", "functions/lambda_branchy.py"],
    }
    slow = results(ran)["functions"]["slow"]["coverage"]
    assert slow["files"] == ["functions/lambda_slow.py"] and slow["percent"] == 100.0


@pytest.mark.slow
def test_the_run_writes_data_xml_and_html_with_repo_paths(ran: tuple[pipeline.RunReport, Path]) -> None:
    _, repo = ran
    summary = results(ran)["coverage"]
    assert summary["data_file"] == ".harness/.coverage" and summary["unsaved"] == []
    total = summary["total"]
    assert "functions/common/never.py" in total["files"]  # never imported: 0%, not left out
    assert total["statements"] == 24
    xml = (repo / ".harness" / "coverage.xml").read_text()
    assert 'filename="functions/lambda_branchy.py"' in xml and ".harness/runtime" not in xml
    assert (repo / ".harness" / "coverage-html" / "index.html").is_file()
    assert not (repo / ".harness" / "coverage-parts").exists()


@pytest.mark.slow
def test_memory_advice_from_a_known_allocation(ran: tuple[pipeline.RunReport, Path]) -> None:
    limits = results(ran)["functions"]["hungry"]["limits"]
    peak = limits["peak_memory_mb"]
    assert 80 < peak < 80 + 64  # the 80 MB it allocated, plus the interpreter (and coverage)
    assert limits["declared_memory_mb"] == 1024 and limits["memory_cases"] == 2
    wanted = ((peak * 2 + 63) // 64) * 64
    assert limits["advice"] == [
        {
            "kind": "memory",
            "level": "info",
            "text": f"declared 1024 MB, peak {peak} MB over 2 cases: {wanted} MB leaves 2x headroom",
        }
    ]


@pytest.mark.slow
def test_timeout_advice_from_a_known_sleep(ran: tuple[pipeline.RunReport, Path]) -> None:
    limits = results(ran)["functions"]["slow"]["limits"]
    assert 700 <= limits["slowest_ms"] < 1000 and limits["declared_timeout_s"] == 1
    share = round(limits["slowest_ms"] / 10)
    assert limits["advice"][-1] == {
        "kind": "timeout",
        "level": "warning",
        "text": f"slowest case {round(limits['slowest_ms'] / 1000, 1):g} s of a 1 s timeout ({share}%)",
    }
    assert results(ran)["functions"]["slow"]["tf_file"] == "terraform/lambda_slow.tf"


def chromium() -> str:
    """Debian's Chromium (``apt-get install chromium``; .ci/run installs it). Never downloaded."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.mark.slow
def test_the_html_report_shows_every_function_and_failure_offline_in_a_real_browser(
    ran: tuple[pipeline.RunReport, Path],
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    page_path = ran[1] / ".harness" / "report.html"
    requested: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(page_path.as_uri())
            text = page.inner_text("body")
            for name in ("branchy", "hungry", "slow", "broken"):
                assert page.locator(f"#fn-{name}").is_visible(), name
            assert "3 passed" not in text and "cases failed" in text
            failure = page.locator("#fail-broken-sum")
            assert failure.is_visible()
            assert "$.total: expected 42, got 41" in failure.inner_text()
            assert '{"items": [20, 22]}' in failure.inner_text()  # the event
            assert "adding up [20, 22]" in failure.inner_text()  # the log excerpt
            assert failure.locator("span.del").first.inner_text() == '-  "total": 42'
            assert failure.locator("span.add").first.inner_text() == '+  "total": 41'
            assert page.locator("#fn-branchy").inner_text().count("75.0%") == 1
            assert "MB leaves 2x headroom" in page.locator("#fn-hungry").inner_text()
            assert page.locator("#fn-hungry svg").count() == 2  # duration and memory charts
            page.click("#fail-broken-sum button")  # the page's own script works
            assert page.locator("#fail-broken-sum-more").is_hidden()
            page.check("#only-failed")
            assert page.locator("#fn-branchy").is_hidden() and page.locator("#fn-broken").is_visible()
        finally:
            browser.close()
    assert requested == [page_path.as_uri()]  # nothing but the file itself: no CDN, no fonts, no images
