"""The HTML report's function-roles section and its IAM failures."""

from __future__ import annotations

from typing import Any

from lambda_harness.testing.report_html import render


def results(mode: str = "enforce", outside: list[str] | None = None) -> dict[str, Any]:
    iam = {
        "role_arn": "arn:aws:iam::123456789012:role/acme-worker",
        "role_declared_in": "terraform/main.tf:216 aws_iam_role.worker",
        "used": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/in/x", "count": 3}],
        "denied": [],
        "notes": [],
        "not_evaluated": [],
        "least_privilege": {
            "unused_actions": ["s3:DeleteObject"],
            "unused_statements": [],
            "over_broad": ['Action "s3:*" grants 168 actions; the tests used 1: s3:GetObject'],
        },
    }
    return {
        "functions": {"ingest": {"passed": 1, "failed": 0, "cases": [], "iam": iam}},
        "gate": [],
        "other_failures": [],
        "iam": {"mode": mode, "denials_outside_cases_text": outside or []},
    }


def test_the_report_shows_each_role_least_privilege() -> None:
    page = render(results())
    assert "Function roles (IAM, iam = enforce): least privilege" in page
    assert "<td>ingest</td><td>acme-worker</td><td>3</td><td>0</td><td>1</td><td>1</td>" in page
    assert "granted but no test used: s3:DeleteObject" in page
    assert "Action &quot;s3:*&quot; grants 168 actions" in page
    assert '<b class="ok">passed</b>' in page


def test_a_denial_outside_the_cases_fails_the_page_when_enforced() -> None:
    text = "ingest: s3:PutObject on arn:aws:s3:::b/out/x was denied"
    enforced = render(results(outside=[text]))
    assert '<b class="bad">failed</b>' in enforced and "IAM, outside the event cases" in enforced
    assert text in enforced
    warned = render(results(mode="warn", outside=[text]))
    assert '<b class="ok">passed</b>' in warned and "IAM, outside the event cases" not in warned


def test_no_iam_data_no_section() -> None:
    page = render({"functions": {"f": {"passed": 1, "failed": 0, "cases": []}}})
    assert "Function roles" not in page
