"""Dispatcher: moto's host -> service answer, worked out once per host."""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from lambda_harness.endpoint.server import Dispatcher

HOSTS = [
    "lambda.eu-west-1.amazonaws.com",
    "s3.amazonaws.com",
    "my-bucket.s3.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
    "moto_api",
    None,
]


def test_each_host_gets_motos_own_answer() -> None:
    moto = DomainDispatcherApplication(create_backend_app)
    ours = Dispatcher()
    for _ in range(2):  # the second time from memory
        assert [ours.get_backend_for_host(h) for h in HOSTS] == [moto.get_backend_for_host(h) for h in HOSTS]
    assert ours.get_backend_for_host("lambda.eu-west-1.amazonaws.com") == "awslambda"


def test_moto_works_a_host_out_once() -> None:
    asked: list[str | None] = []

    class Counting(DomainDispatcherApplication):
        def get_backend_for_host(self, host: str | None) -> Any:
            asked.append(host)
            return super().get_backend_for_host(host)

    class Remembering(Dispatcher, Counting):
        pass

    dispatcher = Remembering()
    for _ in range(3):
        for host in HOSTS:
            dispatcher.get_backend_for_host(host)
    assert asked == HOSTS
