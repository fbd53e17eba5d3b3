"""Inventory from `terraform show -json` state: functions, triggers, declarations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.terraform.inventory import Inventory, declaration_of, function_name_of, module_dirs_from

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:"
APIGW = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"


def res(rtype: str, name: str, values: dict[str, Any], module: str = "") -> dict[str, Any]:
    return {
        "address": f"{module}{rtype}.{name}",
        "mode": "managed",
        "type": rtype,
        "name": name,
        "values": values,
    }


def fn(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "function_name": name,
        "arn": ARN + name,
        "handler": f"{name}.app.handler",
        "runtime": "python3.12",
        "architectures": ["arm64"],
        "environment": [{"variables": {"A": "1"}}],
        "timeout": 30,
        "memory_size": 256,
        "role": "arn:aws:iam::123456789012:role/r",
        "code_sha256": "abc=",
        **extra,
    }


SHOW = {
    "values": {
        "root_module": {
            "resources": [
                res("aws_lambda_function", "ingest", fn("ingest")),
                res("aws_lambda_function", "api", fn("api", architectures=None, environment=[])),
                res(
                    "aws_s3_bucket_notification",
                    "n",
                    {
                        "bucket": "uploads",
                        "lambda_function": [
                            {
                                "lambda_function_arn": ARN + "ingest",
                                "events": ["s3:ObjectCreated:*"],
                                "filter_prefix": "in/",
                                "filter_suffix": "",
                                "id": "n1",
                            }
                        ],
                    },
                ),
                res(
                    "aws_lambda_event_source_mapping",
                    "q",
                    {
                        "function_arn": ARN + "ingest",
                        "function_name": ARN + "ingest",
                        "event_source_arn": "arn:aws:sqs:eu-west-1:123456789012:jobs",
                        "batch_size": 5,
                        "enabled": True,
                        "function_response_types": ["ReportBatchItemFailures"],
                    },
                ),
                res(
                    "aws_sns_topic_subscription",
                    "s",
                    {
                        "protocol": "lambda",
                        "endpoint": ARN + "ingest",
                        "topic_arn": "arn:aws:sns:eu-west-1:123456789012:alerts",
                    },
                ),
                res(
                    "aws_sns_topic_subscription",
                    "mail",
                    {"protocol": "email", "endpoint": "a@b.c", "topic_arn": "t"},
                ),
                res(
                    "aws_cloudwatch_event_rule",
                    "tick",
                    {"name": "tick", "schedule_expression": "rate(1 hour)", "event_bus_name": "default"},
                ),
                res(
                    "aws_cloudwatch_event_target",
                    "tick",
                    {"rule": "tick", "arn": ARN + "ingest", "target_id": "t1", "event_bus_name": "default"},
                ),
                res(
                    "aws_lambda_function_url",
                    "u",
                    {
                        "function_name": "api",
                        "function_url": "https://x.lambda-url/",
                        "authorization_type": "NONE",
                    },
                ),
                res(
                    "aws_lambda_permission",
                    "apigw",
                    {
                        "function_name": "api",
                        "principal": "apigateway.amazonaws.com",
                        "statement_id": "apigw",
                        "source_arn": "arn:aws:execute-api:x",
                    },
                ),
                res(
                    "aws_lambda_permission",
                    "s3",
                    {"function_name": "ingest", "principal": "s3.amazonaws.com"},
                ),
            ],
            "child_modules": [
                {
                    "address": "module.jobs",
                    "resources": [
                        res("aws_lambda_function", "worker", fn("worker"), module="module.jobs."),
                        res(
                            "aws_cloudwatch_event_rule",
                            "r",
                            {"name": "on-order", "event_pattern": '{"source":["orders"]}'},
                            module="module.jobs.",
                        ),
                        res(
                            "aws_cloudwatch_event_target",
                            "t",
                            {"rule": "on-order", "arn": ARN + "worker:live"},
                            module="module.jobs.",
                        ),
                        res(
                            "aws_apigatewayv2_integration",
                            "i",
                            {
                                "api_id": "abc",
                                "integration_type": "AWS_PROXY",
                                "integration_uri": APIGW + ARN + "worker/invocations",
                            },
                            module="module.jobs.",
                        ),
                        res(
                            "aws_lambda_permission",
                            "p",
                            {"function_name": "worker", "principal": "apigateway.amazonaws.com"},
                            module="module.jobs.",
                        ),
                    ],
                }
            ],
        }
    }
}


@pytest.fixture
def tf_dir(tmp_path: Path) -> Path:
    (tmp_path / "terraform" / "modules" / "jobs").mkdir(parents=True)
    (tmp_path / "terraform" / "main.tf").write_text(
        'provider "aws" {}\n\nresource "aws_lambda_function" "api" {\n}\n'
    )
    (tmp_path / "terraform" / "lambda_ingest.tf").write_text('resource  "aws_lambda_function"  "ingest" {}\n')
    (tmp_path / "terraform" / "modules" / "jobs" / "fn.tf").write_text(
        '\nresource "aws_lambda_function" "worker" {}'
    )
    return tmp_path / "terraform"


def test_functions_and_fields(tf_dir: Path) -> None:
    inv = Inventory.from_show_json(
        SHOW, tf_dir, endpoint_url="http://127.0.0.1:4566", module_dirs={"jobs": tf_dir / "modules" / "jobs"}
    )
    assert inv.names() == ["api", "ingest", "worker"]
    assert inv.region == "eu-west-1"
    ingest = inv.get("ingest")
    assert (ingest.handler, ingest.runtime, ingest.architecture, ingest.timeout, ingest.memory_size) == (
        "ingest.app.handler",
        "python3.12",
        "arm64",
        30,
        256,
    )
    assert ingest.environment == {"A": "1"}
    assert (ingest.tf_file, ingest.tf_line) == (tf_dir / "lambda_ingest.tf", 1)
    api = inv.get("api")
    assert (api.architecture, api.environment, api.tf_file, api.tf_line) == (
        "x86_64",
        {},
        tf_dir / "main.tf",
        3,
    )
    worker = inv.get("worker")
    assert worker.address == "module.jobs.aws_lambda_function.worker"
    assert (worker.tf_file, worker.tf_line) == (tf_dir / "modules" / "jobs" / "fn.tf", 2)


def test_triggers(tf_dir: Path) -> None:
    inv = Inventory.from_show_json(SHOW, tf_dir)
    kinds = {(t.kind, t.source) for t in inv.get("ingest").triggers}
    assert kinds == {
        ("s3", "uploads"),
        ("sqs", "arn:aws:sqs:eu-west-1:123456789012:jobs"),
        ("sns", "arn:aws:sns:eu-west-1:123456789012:alerts"),
        ("schedule", "tick"),
    }
    s3 = next(t for t in inv.get("ingest").triggers if t.kind == "s3")
    assert s3.detail["events"] == ["s3:ObjectCreated:*"] and s3.detail["filter_prefix"] == "in/"
    sched = next(t for t in inv.get("ingest").triggers if t.kind == "schedule")
    assert sched.detail["schedule_expression"] == "rate(1 hour)"
    assert {(t.kind, t.source) for t in inv.get("api").triggers} == {
        ("url", "https://x.lambda-url/"),
        ("api", "arn:aws:execute-api:x"),
    }
    worker = {(t.kind, t.source) for t in inv.get("worker").triggers}
    assert worker == {("event", "on-order"), ("api", "abc")}  # the integration replaces the bare permission
    event = next(t for t in inv.get("worker").triggers if t.kind == "event")
    assert event.detail["event_pattern"] == {"source": ["orders"]}


def test_save_load_roundtrip(tf_dir: Path, tmp_path: Path) -> None:
    inv = Inventory.from_show_json(SHOW, tf_dir, endpoint_url="http://127.0.0.1:4566")
    path = inv.save(tmp_path / ".harness" / "inventory.json")
    assert json.loads(path.read_text())["version"] == 1
    assert Inventory.load(path) == inv


def test_load_missing_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lambda-harness apply"):
        Inventory.load(tmp_path / "inventory.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="not readable JSON"):
        Inventory.load(tmp_path / "bad.json")


def test_get_unknown_lists_known(tf_dir: Path) -> None:
    with pytest.raises(ConfigError, match="deployed: api, ingest, worker"):
        Inventory.from_show_json(SHOW, tf_dir).get("nope")


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("ingest", "ingest"),
        (ARN + "ingest", "ingest"),
        (ARN + "ingest:3", "ingest"),
        ("ingest:live", "ingest"),
        (
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/" + ARN + "ingest/invocations",
            "ingest",
        ),
        ("other", None),
        ("", None),
    ],
)
def test_function_name_of(ref: str, name: str | None) -> None:
    assert function_name_of(ref, {"ingest"}) == name


def test_declaration_with_index_and_missing(tf_dir: Path) -> None:
    assert declaration_of('aws_lambda_function.ingest["a"]', tf_dir, {}) == (tf_dir / "lambda_ingest.tf", 1)
    assert declaration_of("aws_lambda_function.absent", tf_dir, {}) is None
    assert declaration_of("module.gone.aws_lambda_function.x", tf_dir, {}) is None


def test_module_dirs_map_back_to_real_folder(tmp_path: Path) -> None:
    work = tmp_path / "staged" / "terraform"
    (work / ".terraform" / "modules").mkdir(parents=True)
    (work / ".terraform" / "modules" / "modules.json").write_text(
        json.dumps(
            {
                "Modules": [
                    {"Key": "", "Source": "", "Dir": "."},
                    {"Key": "jobs", "Source": "./modules/jobs", "Dir": "modules/jobs"},
                ]
            }
        )
    )
    assert module_dirs_from(work, tmp_path / "real") == {"jobs": tmp_path / "real" / "modules" / "jobs"}
    assert module_dirs_from(tmp_path / "none", tmp_path) == {}


def test_a_declaration_in_json_syntax_is_named_by_its_file_without_a_line(tmp_path: Path) -> None:
    from lambda_harness.terraform.iam import Declared

    tf_dir = tmp_path / "terraform"
    tf_dir.mkdir()
    (tf_dir / "main.tf.json").write_text(
        json.dumps(
            {
                "resource": {
                    "aws_iam_role": {"fn": {"name": "gen-fn"}},
                    "aws_lambda_function": [{"hello": {"function_name": "gen-hello"}}],
                },
                "data": {"aws_caller_identity": {"me": {}}},
            }
        )
    )
    json_file = tf_dir / "main.tf.json"
    assert declaration_of("aws_lambda_function.hello", tf_dir, {}) == (json_file, None)
    assert declaration_of("data.aws_caller_identity.me", tf_dir, {}) == (json_file, None)
    found = declaration_of("aws_iam_role.fn", tf_dir, {})
    assert found is not None
    role = Declared("aws_iam_role.fn", str(found[0]), found[1])
    assert role.where(tmp_path) == "terraform/main.tf.json aws_iam_role.fn"
