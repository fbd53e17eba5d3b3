"""Reading a plan's changes for the idempotency check."""

from __future__ import annotations

from lambda_harness.terraform.plan import PlannedChange, perpetual_diff_message, planned_changes

PLAN = {
    "resource_changes": [
        {"address": "aws_s3_bucket.a", "change": {"actions": ["no-op"], "before": {}, "after": {}}},
        {
            "address": "data.aws_iam_policy_document.p",
            "change": {"actions": ["read"], "before": None, "after": {}},
        },
        {
            "address": "aws_lambda_function.x",
            "change": {
                "actions": ["update"],
                "before": {"source_code_hash": "a", "handler": "h", "tags": {}},
                "after": {"source_code_hash": "b", "handler": "h", "tags": {}},
                "after_unknown": {"last_modified": True, "tags": {}, "layers": [False]},
            },
        },
        {
            "address": "aws_iam_role.r",
            "change": {
                "actions": ["delete", "create"],
                "before": {"name": "a"},
                "after": {"name": "b"},
                "after_unknown": {},
            },
        },
        {
            "address": "aws_sqs_queue.q",
            "change": {"actions": ["create"], "before": None, "after": {"name": "q"}},
        },
    ],
    "output_changes": {"url": {"actions": ["update"]}, "same": {"actions": ["no-op"]}},
}


def test_planned_changes_lists_non_noop_with_attributes() -> None:
    changes = planned_changes(PLAN)
    assert changes == [
        PlannedChange("aws_lambda_function.x", ("update",), ("last_modified", "source_code_hash")),
        PlannedChange("aws_iam_role.r", ("delete", "create"), ("name",)),
        PlannedChange("aws_sqs_queue.q", ("create",), ()),
        PlannedChange("data.aws_iam_policy_document.p", ("read",), ()),
        PlannedChange("output.url", ("update",), ()),
    ]
    assert changes[0].describe() == "aws_lambda_function.x: update (last_modified, source_code_hash)"
    assert changes[1].describe() == "aws_iam_role.r: replace (name)"
    read = PlannedChange("data.aws_iam_policy_document.p", ("read",), ("statement",))
    assert (
        read.describe()
        == "data.aws_iam_policy_document.p: read during apply (it depends on a change listed here)"
    )


def test_empty_plan() -> None:
    assert planned_changes({"resource_changes": [], "output_changes": {}}) == []
    assert planned_changes({}) == []


def test_message_names_each_resource() -> None:
    msg = perpetual_diff_message(planned_changes(PLAN), "/w")
    assert "perpetual diff: aws_lambda_function.x: update (last_modified, source_code_hash)" in msg
    assert "cd /w && terraform plan" in msg
