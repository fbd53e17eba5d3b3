"""Loopback traffic never goes through the user's proxy (issue 9, item 4)."""

from __future__ import annotations

from lambda_harness import net
from lambda_harness.testing.invoker import client_config
from lambda_harness.testing.session import harness_test_env


def test_no_proxy_merges_the_users_entries_and_adds_loopback() -> None:
    env = net.no_proxy_env({"NO_PROXY": "corp.example,10.0.0.0/8", "no_proxy": "corp.example,.internal"})
    assert env["NO_PROXY"] == env["no_proxy"]
    assert env["NO_PROXY"].split(",") == [
        "corp.example",
        "10.0.0.0/8",
        ".internal",
        "127.0.0.1",
        "localhost",
        "::1",
        "[::1]",
    ]
    assert net.no_proxy_env({})["no_proxy"] == "127.0.0.1,localhost,::1,[::1]"


def test_boto3_clients_for_loopback_use_no_proxy_at_all() -> None:
    assert client_config(endpoint_url="http://127.0.0.1:4566").proxies == {}
    assert client_config(endpoint_url="http://[::1]:4566").proxies == {}
    assert client_config(endpoint_url="http://10.0.0.5:4566").proxies is None  # the user's, if opted in


def test_the_tests_environment_keeps_the_proxy_but_not_for_loopback() -> None:
    env = harness_test_env(
        {"HTTPS_PROXY": "http://proxy:3128", "PATH": "/bin"}, "http://127.0.0.1:4566", "eu-west-1"
    )
    assert env["HTTPS_PROXY"] == "http://proxy:3128"
    assert "127.0.0.1" in env["NO_PROXY"].split(",") and "localhost" in env["no_proxy"].split(",")


def test_the_tests_environment_carries_no_aws_setting_of_the_host() -> None:
    host = {
        "AWS_CONFIG_FILE": "/home/me/.aws/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/home/me/.aws/credentials",
        "AWS_ROLE_ARN": "arn:aws:iam::1:role/deploy",
        "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com",
        "AWS_DEFAULT_PROFILE": "prod",
        "PATH": "/bin",
    }
    env = harness_test_env(host, "http://127.0.0.1:4566", "eu-west-1")
    aws = {k: v for k, v in env.items() if k.startswith("AWS_")}
    assert aws == {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }
