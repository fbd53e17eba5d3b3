"""HTTP/1.1 keep-alive: SDK clients reuse one connection; every response says its length."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from lambda_harness.endpoint.server import EmbeddedEndpoint


def connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)


def test_requests_share_one_connection_and_carry_content_length(
    endpoint: EmbeddedEndpoint, deploy: Callable[..., str]
) -> None:
    name = deploy("echo")
    conn = connect(endpoint.url)
    try:
        answers = []
        for path, method, body in (
            ("/_harness/health", "GET", None),
            (f"/2015-03-31/functions/{name}/invocations", "POST", b'{"n": 1}'),
            ("/2015-03-31/functions/nope/invocations", "POST", b"{}"),  # moto's 404, through the same socket
            (f"/2015-03-31/functions/{name}/invocations", "POST", b'{"n": 2}'),
        ):
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            answers.append(
                (resp.status, resp.getheader("Content-Length"), resp.getheader("Connection"), data)
            )
        sock = conn.sock
        assert sock is not None  # never reconnected: http.client would have replaced a closed socket
    finally:
        conn.close()
    assert [a[0] for a in answers] == [200, 200, 404, 200]
    assert all(a[1] == str(len(a[3])) for a in answers)  # Content-Length on every response
    assert all(a[2] != "close" for a in answers)
    assert json.loads(answers[1][3])["event"] == {"n": 1} and json.loads(answers[3][3])["event"] == {"n": 2}


def test_a_client_that_asks_to_close_is_closed(endpoint: EmbeddedEndpoint) -> None:
    conn = connect(endpoint.url)
    try:
        conn.request("GET", "/_harness/health", headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        assert resp.getheader("Connection") == "close" and resp.will_close
    finally:
        conn.close()


def test_a_body_over_the_read_ahead_limit_reaches_the_application(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any]
) -> None:
    # Over 10 MB the handler does not buffer the body first (API Gateway's 413 is answered from
    # the header); moto still reads all of it from the socket, and the connection then closes.
    s3 = aws("s3")
    s3.create_bucket(Bucket="read-ahead")
    data = bytes(range(256)) * (10 * 1024 * 1024 // 256 + 1)
    s3.put_object(Bucket="read-ahead", Key="big", Body=data)
    assert s3.get_object(Bucket="read-ahead", Key="big")["Body"].read() == data
    assert s3.list_objects_v2(Bucket="read-ahead")["KeyCount"] == 1  # the next request works too
