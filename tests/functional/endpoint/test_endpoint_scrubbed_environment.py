"""The endpoint never sees the host's AWS identity (issue 9, item 5): with AWS_PROFILE naming a
profile that does not exist (moto's session would raise ProfileNotFound, HTTP 500), a config file
that is not there and real-looking keys, the detached ``up``, the foreground ``up`` and the
in-process endpoint of ``run`` all answer create and list calls."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from lambda_harness import cli, net
from lambda_harness.endpoint import control
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.session import endpoint_session
from lambda_harness.settings import load_settings
from lambda_harness.ui import PlainUI

HOSTILE = {
    "AWS_PROFILE": "nosuch",
    "AWS_DEFAULT_PROFILE": "nosuch",
    "AWS_CONFIG_FILE": "/nonexistent/aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
    "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY01",
    "AWS_SECRET_ACCESS_KEY": "real-secret",
    "AWS_SESSION_TOKEN": "real-token",
}


@pytest.fixture
def hostile_env(monkeypatch: pytest.MonkeyPatch, endpoint_cache: Path) -> Iterator[Callable[[], None]]:
    """Call it once the test's own clients exist (boto3 itself would trip over the profile)."""
    for name in [k for k in os.environ if k.startswith(("AWS_", "LAMBDA_HARNESS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAMBDA_HARNESS_CACHE_DIR", str(endpoint_cache))

    def apply() -> None:
        for name, value in HOSTILE.items():
            monkeypatch.setenv(name, value)

    yield apply


class Clients:
    """boto3 clients made before the hostile environment is set, with test credentials."""

    def __init__(self, url: str) -> None:
        session = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        config = Config(retries={"total_max_attempts": 1}, proxies={})
        self.s3, self.sqs, self.lam, self.sts = (
            session.client(name, endpoint_url=url, config=config) for name in ("s3", "sqs", "lambda", "sts")
        )

    def create_and_list(self) -> None:
        self.s3.create_bucket(Bucket="scrubbed")
        assert "scrubbed" in {b["Name"] for b in self.s3.list_buckets()["Buckets"]}
        self.sqs.create_queue(QueueName="scrubbed")
        assert any(u.endswith("/scrubbed") for u in self.sqs.list_queues()["QueueUrls"])
        assert self.lam.list_functions()["Functions"] == []
        assert self.sts.get_caller_identity()["Account"]


def repo(tmp_path: Path) -> Path:
    (tmp_path / "functions").mkdir()
    (tmp_path / "terraform").mkdir()
    return tmp_path


def test_detached_up_answers_with_a_hostile_aws_environment(
    tmp_path: Path, hostile_env: Callable[[], None]
) -> None:
    project = repo(tmp_path)
    port = free_port()
    clients = Clients(f"http://127.0.0.1:{port}")
    hostile_env()
    assert cli.main(["up", "--detach", "--project", str(project), "--port", str(port)]) == 0
    try:
        clients.create_and_list()
    finally:
        assert cli.main(["down", "--project", str(project), "--port", str(port)]) == 0


def test_foreground_up_answers_and_restores_the_environment(
    tmp_path: Path, hostile_env: Callable[[], None]
) -> None:
    settings = load_settings(repo(tmp_path), {"port": free_port()})
    clients = Clients(settings.endpoint_url)
    hostile_env()
    stop = threading.Event()
    serving = threading.Thread(
        target=control.serve_foreground, args=(settings, PlainUI(quiet=True)), kwargs={"stop": stop}
    )
    serving.start()
    try:
        control.wait_healthy(settings.endpoint_url, 60)
        clients.create_and_list()
    finally:
        stop.set()
        serving.join(timeout=60)
    assert not serving.is_alive()
    assert {k: os.environ.get(k) for k in HOSTILE} == HOSTILE


def test_the_in_process_endpoint_of_run_answers_and_restores_the_environment(
    tmp_path: Path, hostile_env: Callable[[], None]
) -> None:
    settings = load_settings(repo(tmp_path), {"port": free_port()})
    clients = Clients(settings.endpoint_url)
    hostile_env()
    with endpoint_session(settings, PlainUI(quiet=True)) as url:
        assert net.harness_health(url) is None
        clients.create_and_list()
        assert "AWS_PROFILE" not in os.environ  # scrubbed while the endpoint runs
    assert {k: os.environ.get(k) for k in HOSTILE} == HOSTILE
