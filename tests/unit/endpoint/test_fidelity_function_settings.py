"""Function settings moto drops, answered as AWS does: LoggingConfig, SnapStart, ImageConfig,
provisioned concurrency configs. Oracle: the Lambda API reference (GetFunctionConfiguration,
PutProvisionedConcurrencyConfig) and botocore's service model for the shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambda_harness.endpoint import functionconfig, provisioned


@dataclass
class Fn:
    function_name: str = "fn"


def test_logging_config_defaults_to_text_and_the_function_log_group() -> None:
    assert functionconfig.logging_config("fn", None) == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"}


def test_logging_config_json_keeps_levels_and_defaults_missing_ones_to_info() -> None:
    given = {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}
    assert functionconfig.logging_config("fn", given) == {
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/fn",
        "ApplicationLogLevel": "DEBUG",
        "SystemLogLevel": "INFO",
    }


def test_logging_config_keeps_a_custom_log_group() -> None:
    given = {"LogFormat": "Text", "LogGroup": "/team/shared"}
    assert functionconfig.logging_config("fn", given)["LogGroup"] == "/team/shared"


def test_snap_start_is_on_for_published_versions_only() -> None:
    given = {"ApplyOn": "PublishedVersions"}
    assert functionconfig.snap_start(given, "$LATEST") == {
        "ApplyOn": "PublishedVersions",
        "OptimizationStatus": "Off",
    }
    assert functionconfig.snap_start(given, "3") == {
        "ApplyOn": "PublishedVersions",
        "OptimizationStatus": "On",
    }
    assert functionconfig.snap_start(None, "3") == {"ApplyOn": "None", "OptimizationStatus": "Off"}


def test_image_config_is_absent_when_none_was_set_and_lists_only_set_fields() -> None:
    assert functionconfig.image_config(None) is None
    assert functionconfig.image_config({"Command": [], "EntryPoint": []}) is None
    assert functionconfig.image_config({"Command": ["app.handler"]}) == {
        "ImageConfig": {"Command": ["app.handler"]}
    }


def _configured(spec: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    fn = Fn()
    functionconfig.remember(fn, spec)
    return functionconfig.answer(fn, config)


def test_answer_drops_moto_empty_image_config_for_an_image_function_without_one() -> None:
    moto_says = {
        "PackageType": "Image",
        "Version": "$LATEST",
        "ImageConfigResponse": {"ImageConfig": {"Command": []}},
    }
    assert "ImageConfigResponse" not in _configured({}, moto_says)


def test_answer_reports_what_create_and_update_set() -> None:
    fn = Fn()
    functionconfig.remember(fn, {"SnapStart": {"ApplyOn": "PublishedVersions"}})
    functionconfig.update(fn, {"LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "WARN"}})
    config = functionconfig.answer(fn, {"PackageType": "Zip", "Version": "1"})
    assert config["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert config["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert "ImageConfigResponse" not in config


def test_a_provisioned_config_is_reported_ready_with_everything_allocated() -> None:
    assert provisioned.ready(5, "2026-12-01T00:00:00.000+0000") == {
        "RequestedProvisionedConcurrentExecutions": 5,
        "AvailableProvisionedConcurrentExecutions": 5,
        "AllocatedProvisionedConcurrentExecutions": 5,
        "Status": "READY",
        "LastModified": "2026-12-01T00:00:00.000+0000",
    }


def test_the_provisioned_path_names_the_function() -> None:
    match = provisioned.PATH.match("/2019-09-30/functions/fn/provisioned-concurrency")
    assert match is not None
    assert match.group("name") == "fn"
    assert provisioned.PATH.match("/2015-03-31/functions/fn/concurrency") is None
