"""Reading a plan's changes for the idempotency check."""

from __future__ import annotations

import pytest

from lambda_harness.terraform.plan import (
    EMULATOR_GAPS,
    PlannedChange,
    apply_waivers,
    changed_paths,
    emulator_gaps,
    perpetual_diff_message,
    planned_changes,
)

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


def test_message_names_each_resource_and_offers_only_the_harness_plan() -> None:
    msg = perpetual_diff_message(planned_changes(PLAN), "lambda-harness plan --project /w")
    assert "perpetual diff: aws_lambda_function.x: update (last_modified, source_code_hash)" in msg
    assert "Inspect with: lambda-harness plan --project /w" in msg
    # Never a command that could reach AWS: a bare terraform plan runs with the user's credentials.
    assert "terraform plan" not in msg.replace("lambda-harness plan", "") and "cd " not in msg


CLOUDFRONT = {
    "resource_changes": [
        {
            "address": "aws_cloudfront_distribution.cdn",
            "type": "aws_cloudfront_distribution",
            "change": {
                "actions": ["update"],
                "before": {
                    "enabled": True,
                    "default_cache_behavior": [{"target_origin_id": "o", "lambda_function_association": []}],
                },
                "after": {
                    "enabled": True,
                    "default_cache_behavior": [
                        {
                            "target_origin_id": "o",
                            "lambda_function_association": [
                                {"event_type": "viewer-request", "lambda_arn": "arn:aws:lambda:...:1"}
                            ],
                        }
                    ],
                },
                "after_unknown": {},
            },
        },
        {
            "address": "aws_s3_bucket.churn",
            "type": "aws_s3_bucket",
            "change": {
                "actions": ["update"],
                "before": {"tags": {"stamp": "1"}, "tags_all": {"stamp": "1"}},
                "after": {"tags": {"stamp": "2"}},
                "after_unknown": {"tags_all": True},
            },
        },
    ]
}


def test_changed_paths_go_down_to_the_nested_attribute_without_list_indices() -> None:
    change = CLOUDFRONT["resource_changes"][0]["change"]
    assert changed_paths(change["before"], change["after"], change["after_unknown"]) == (
        "default_cache_behavior.lambda_function_association",
    )
    bucket = CLOUDFRONT["resource_changes"][1]["change"]
    assert changed_paths(bucket["before"], bucket["after"], bucket["after_unknown"]) == (
        "tags.stamp",
        "tags_all",
    )


def test_a_diff_the_emulator_causes_is_told_apart_from_a_config_problem() -> None:
    changes = planned_changes(CLOUDFRONT)
    cdn, bucket = changes
    gaps = emulator_gaps(cdn)
    assert [g.attribute for g in gaps] == ["default_cache_behavior.lambda_function_association"]
    assert emulator_gaps(bucket) == []
    msg = perpetual_diff_message(changes, "lambda-harness plan")
    assert "aws_cloudfront_distribution.cdn: update (default_cache_behavior) - caused by the emulator" in msg
    assert "moto" in msg and "real AWS" in msg
    waiver = "aws_cloudfront_distribution.cdn.default_cache_behavior.lambda_function_association"
    assert f'idempotency-waive = ["{waiver}"]' in msg
    assert "Fix the configuration" in msg  # the bucket's churn is the configuration's


def test_the_known_gaps_are_data_each_with_a_reason() -> None:
    assert EMULATOR_GAPS, "emulator_gaps.json is empty"
    for gap in EMULATOR_GAPS:
        assert gap.resource.startswith("aws_") and "." in gap.attribute and gap.why


def test_waivers_drop_fully_covered_changes_and_say_which_were_used() -> None:
    changes = planned_changes(CLOUDFRONT)
    waivers = ("aws_cloudfront_distribution.cdn.default_cache_behavior", "aws_s3_bucket.churn.tags")
    remaining, waived = apply_waivers(changes, waivers)
    assert [c.address for c in remaining] == ["aws_s3_bucket.churn"]  # tags_all is not waived
    assert waived == ["aws_cloudfront_distribution.cdn.default_cache_behavior.lambda_function_association"]
    remaining, waived = apply_waivers(changes, (*waivers, "aws_s3_bucket.churn.tags_all"))
    assert remaining == [] and len(waived) == 3


def test_a_waiver_never_covers_a_create_or_a_whole_resource() -> None:
    create = PlannedChange("aws_sqs_queue.q", ("create",), (), paths=("name",))
    assert apply_waivers([create], ("aws_sqs_queue.q.name",)) == ([create], [])
    update = PlannedChange("aws_sqs_queue.q", ("update",), ("name",), paths=("name",))
    assert apply_waivers([update], ("aws_sqs_queue.q",)) == ([update], [])


@pytest.mark.parametrize("reads_left", [True, False])
def test_reads_that_only_follow_waived_changes_go_with_them(reads_left: bool) -> None:
    update = PlannedChange("aws_s3_bucket.b", ("update",), ("tags",), paths=("tags",))
    read = PlannedChange("data.aws_iam_policy_document.p", ("read",), ())
    other = PlannedChange("aws_s3_bucket.c", ("update",), ("acl",), paths=("acl",))
    changes = [update, read] if not reads_left else [update, other, read]
    remaining, _ = apply_waivers(changes, ("aws_s3_bucket.b.tags",))
    assert remaining == ([other, read] if reads_left else [])
