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
