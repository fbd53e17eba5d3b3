"""The scrubbed terraform environment and the loopback rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness import net
from lambda_harness.errors import TerraformError
from lambda_harness.settings import load_settings
from lambda_harness.terraform import env as tfenv
from lambda_harness.terraform.runner import Terraform
from lambda_harness.ui import PlainUI

HOST = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/home/dev",
    "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY01",
    "AWS_SECRET_ACCESS_KEY": "real-secret",
    "AWS_SESSION_TOKEN": "real-token",
    "AWS_PROFILE": "production",
    "AWS_CONFIG_FILE": "/home/dev/.aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/home/dev/.aws/credentials",
    "AWS_CA_BUNDLE": "/etc/ssl/certs/ca.pem",
    "AWS_ROLE_ARN": "arn:aws:iam::1:role/deploy",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
    "TF_CLI_CONFIG_FILE": "/home/dev/.terraformrc",
    "TF_VAR_secret": "x",
    "GITHUB_TOKEN": "ghp_x",
}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.6.7", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert net.is_loopback(host)


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "lambda.us-east-1.amazonaws.com", "0.0.0.0", "192.168.1.2", "::", "localhost.evil"]
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not net.is_loopback(host)


def test_remote_endpoint_refused_unless_allowed() -> None:
    with pytest.raises(TerraformError, match=r"not a loopback address.*--allow-non-loopback"):
        tfenv.check_endpoint("http://10.1.2.3:4566", allow_remote=False)
    assert tfenv.check_endpoint("http://10.1.2.3:4566", allow_remote=True).port == 4566


def test_endpoint_must_be_http_url() -> None:
    with pytest.raises(TerraformError, match="not an http"):
        tfenv.check_endpoint("127.0.0.1:4566", allow_remote=False)


def test_ipv6_endpoint_parsed() -> None:
    ep = tfenv.check_endpoint("http://[::1]:4599/", allow_remote=False)
    assert (ep.host, ep.port, ep.url) == ("::1", 4599, "http://[::1]:4599")


def test_base_env_carries_no_host_credentials(tmp_path: Path) -> None:
    env = tfenv.base_env(HOST, home=tmp_path / "home", cli_config=tmp_path / "cli.tfrc", region="eu-west-1")
    assert env["AWS_ACCESS_KEY_ID"] == "test"
    assert env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert "AKIAREALLOOKINGKEY01" not in env.values()
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CA_BUNDLE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "TF_VAR_secret",
        "GITHUB_TOKEN",
    ):
        assert name not in env
    assert (
        env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == str(tmp_path / "home" / ".aws-empty")
    )
    assert env["HOME"] == str(tmp_path / "home")
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "cli.tfrc")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["PATH"] == HOST["PATH"]


def test_proxies_kept_with_loopback_excluded(tmp_path: Path) -> None:
    env = tfenv.base_env(
        {**HOST, "HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "corp.example"},
        home=tmp_path,
        cli_config=tmp_path / "c",
        region="us-east-1",
    )
    assert env["HTTPS_PROXY"] == "http://proxy:3128"
    assert env["NO_PROXY"].split(",") == ["corp.example", "127.0.0.1", "localhost", "::1", "[::1]"]
    assert env["no_proxy"] == env["NO_PROXY"]


def test_driver_environments(tmp_path: Path) -> None:
    base = tfenv.base_env(HOST, home=tmp_path, cli_config=tmp_path / "c", region="us-east-1")
    ep = tfenv.check_endpoint("http://127.0.0.1:4599", allow_remote=False)
    plain = tfenv.terraform_env(base, ep)
    assert plain["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
    local = tfenv.tflocal_env(base, ep, "/usr/bin/terraform")
    assert (local["LOCALSTACK_HOSTNAME"], local["EDGE_PORT"], local["S3_HOSTNAME"]) == (
        "127.0.0.1",
        "4599",
        "127.0.0.1",
    )
    assert local["TF_CMD"] == "/usr/bin/terraform"


def _project(tmp_path: Path) -> Path:
    (tmp_path / "terraform").mkdir()
    return tmp_path


def test_terraform_env_uses_fake_credentials(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path), {}, {"HOME": str(tmp_path)})
    tf = Terraform(settings, PlainUI(), "http://127.0.0.1:4599", environ=HOST)
    env = tf.env()
    assert env["AWS_ACCESS_KEY_ID"] == "test" and "AWS_PROFILE" not in env
    assert env["HOME"].startswith(str(settings.harness_dir))
    assert env["TF_CLI_CONFIG_FILE"] == str(settings.harness_dir / "tf" / "embedded" / "cli.tfrc")


def test_terraform_refuses_remote_endpoint(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path), {}, {"HOME": str(tmp_path)})
    with pytest.raises(TerraformError, match="not a loopback"):
        Terraform(settings, PlainUI(), "https://lambda.us-east-1.amazonaws.com", environ=HOST)
    allowed = settings.with_(allow_non_loopback=True)
    assert Terraform(allowed, PlainUI(), "http://10.0.0.5:4566", environ=HOST).endpoint.host == "10.0.0.5"
