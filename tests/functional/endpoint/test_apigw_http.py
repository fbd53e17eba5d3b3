"""API Gateway over HTTP: APIs made with boto3 on a real endpoint, real workers, real requests.

No Terraform here (tests/functional/endpoint/test_apigw_terraform.py applies one fixture);
every API is created in milliseconds through moto's own API.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.testing.api_cases import load_request, send
from lambda_harness.testing.cases import EventCase
from support.endpoint import handler_zip

ACCOUNT, REGION = "123456789012", "us-east-1"
HANDLERS = """
import base64, json, time

CALLS = {"n": 0}

def echo(event, context):
    headers = {"content-type": "application/json", "Access-Control-Allow-Origin": "*"}
    return {"statusCode": 200, "headers": headers, "body": json.dumps(event)}

def broken(event, context):
    raise RuntimeError("boom")

def malformed(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}, "extra": 1}

def slow(event, context):
    time.sleep(1)
    return {"statusCode": 200, "body": "late"}

def png(event, context):
    return {"statusCode": 200, "headers": {"content-type": "image/png"},
            "body": base64.b64encode(b"\\x89PNG-out").decode(), "isBase64Encoded": True}

def token_authorizer(event, context):
    token = event.get("authorizationToken") or event.get("headers", {}).get("Authorization", "")
    if token.endswith("fail"):
        raise Exception("Unauthorized")
    effect = "Deny" if token.endswith("deny") else "Allow"
    CALLS["n"] += 1
    return {"principalId": "user-1", "context": {"calls": CALLS["n"], "admin": True},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}

def simple_authorizer(event, context):
    CALLS["n"] += 1
    ok = event["identitySource"] == ["let-me-in"]
    return {"isAuthorized": ok, "context": {"calls": CALLS["n"]}}
"""
FUNCTIONS = ("echo", "broken", "malformed", "slow", "png", "token_authorizer", "simple_authorizer")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    reason: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str, *, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> Answer:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def raw_call(
    port: int, path: str, headers: list[tuple[str, str]], *, method: str = "GET", body: bytes = b""
) -> Answer:
    """One request over a real socket with headers exactly as listed (repeats sent apart)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(), resp.reason)
    finally:
        conn.close()


def invoke_arn(fn_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


@pytest.fixture(scope="module")
def fns(aws: Callable[[str], Any], role_arn: str) -> dict[str, str]:
    """handler -> function ARN; every function lets API Gateway call it (except ``no_permission``)."""
    lam = aws("lambda")
    arns = {}
    zip_bytes = handler_zip(HANDLERS)
    for handler in (*FUNCTIONS, "no_permission"):
        name = f"gw-{handler}-{uuid.uuid4().hex[:6]}"
        created = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=f"app.{'echo' if handler == 'no_permission' else handler}",
            Code={"ZipFile": zip_bytes},
            Timeout=5,
        )
        arns[handler] = created["FunctionArn"]
        if handler != "no_permission":
            lam.add_permission(
                FunctionName=name,
                StatementId="apigw",
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*",
            )
    return arns


# --- HTTP APIs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_api(aws: Callable[[str], Any], fns: dict[str, str]) -> str:
    v2 = aws("apigatewayv2")
    api = v2.create_api(
        Name="http",
        ProtocolType="HTTP",
        CorsConfiguration={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET"], "MaxAge": 300},
    )["ApiId"]

    def integration(handler: str, version: str = "2.0", **extra: Any) -> str:
        uri = fns[handler] if version == "1.0" else invoke_arn(fns[handler])
        return str(
            v2.create_integration(
                ApiId=api,
                IntegrationType="AWS_PROXY",
                IntegrationUri=uri,
                PayloadFormatVersion=version,
                **extra,
            )["IntegrationId"]
        )

    simple = v2.create_authorizer(
        ApiId=api,
        Name="simple",
        AuthorizerType="REQUEST",
        AuthorizerUri=invoke_arn(fns["simple_authorizer"]),
        IdentitySource=["$request.header.X-Key"],
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        AuthorizerResultTtlInSeconds=300,
    )["AuthorizerId"]
    policy = v2.create_authorizer(
        ApiId=api,
        Name="policy",
        AuthorizerType="REQUEST",
        AuthorizerUri=invoke_arn(fns["token_authorizer"]),
        IdentitySource=["$request.header.Authorization"],
        AuthorizerPayloadFormatVersion="1.0",
        AuthorizerResultTtlInSeconds=0,
    )["AuthorizerId"]
    jwt = v2.create_authorizer(
        ApiId=api,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Audience": ["x"], "Issuer": "https://issuer.example"},
    )["AuthorizerId"]
    echo2, echo1 = integration("echo"), integration("echo", "1.0")
    routes = {
        "GET /items/{id}": echo2,
        "ANY /files/{proxy+}": echo2,
        "POST /v1": echo1,
        "GET /broken": integration("broken"),
        "GET /slow": integration("slow", TimeoutInMillis=100),
        "GET /denied": integration("no_permission"),
        "$default": echo2,
    }
    for key, target in routes.items():
        v2.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{target}")
    authorized = {"GET /simple": simple, "GET /policy": policy, "GET /jwt": jwt}
    for key, authorizer in authorized.items():
        kind = "JWT" if authorizer == jwt else "CUSTOM"
        v2.create_route(
            ApiId=api,
            RouteKey=key,
            Target=f"integrations/{echo2}",
            AuthorizationType=kind,
            AuthorizerId=authorizer,
        )
    v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    v2.create_stage(ApiId=api, StageName="dev", AutoDeploy=True, StageVariables={"table": "t-dev"})
    return str(api)


def test_http_api_event_2_0_by_path_form(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    got = call(f"{endpoint.url}/_harness/apigw/{http_api}/items/a%20b?x=1&x=2", headers={"Cookie": "s=1"})
    assert got.status == 200, got.body
    event = got.json()
    assert event["version"] == "2.0" and event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/a%20b" and event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2"} and event["cookies"] == ["s=1"]
    ctx = event["requestContext"]
    assert ctx["stage"] == "$default" and ctx["apiId"] == http_api and ctx["accountId"] == ACCOUNT
    assert ctx["domainName"] == f"{http_api}.execute-api.{REGION}.amazonaws.com"
    assert got.headers["apigw-requestid"] == ctx["requestId"]


def test_http_api_named_stage_keeps_its_segment_and_variables(
    endpoint: EmbeddedEndpoint, http_api: str
) -> None:
    event = call(f"{endpoint.url}/_harness/apigw/{http_api}/dev/files/a/b").json()
    assert event["routeKey"] == "ANY /files/{proxy+}" and event["pathParameters"] == {"proxy": "a/b"}
    assert event["rawPath"] == "/dev/files/a/b" and event["requestContext"]["stage"] == "dev"
    assert event["stageVariables"] == {"table": "t-dev"}


def test_http_api_host_form_and_localstack_alias(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=60)
    conn.request("GET", "/items/1", headers={"Host": f"{http_api}.execute-api.localhost:{endpoint.port}"})
    resp = conn.getresponse()
    event = json.loads(resp.read())
    conn.close()
    assert resp.status == 200 and event["requestContext"]["domainName"] == f"{http_api}.execute-api.localhost"
    alias = call(f"{endpoint.url}/_aws/execute-api/{http_api}/items/2").json()
    assert alias["pathParameters"] == {"id": "2"}


def test_http_api_default_route_and_payload_1_0(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    default = call(f"{endpoint.url}/_harness/apigw/{http_api}/anything/else", method="DELETE").json()
    assert default["routeKey"] == "$default" and default["rawPath"] == "/anything/else"
    v1 = call(
        f"{endpoint.url}/_harness/apigw/{http_api}/v1",
        method="POST",
        data=b"hi",
        headers={"Content-Type": "text/plain"},
    )
    event = v1.json()
    assert event["version"] == "1.0" and event["httpMethod"] == "POST" and event["body"] == "hi"
    assert event["multiValueHeaders"]["Content-Type"] == ["text/plain"]
    assert event["requestContext"]["resourceId"] == "POST /v1"


def test_http_api_errors(endpoint: EmbeddedEndpoint, http_api: str, caplog: pytest.LogCaptureFixture) -> None:
    base = f"{endpoint.url}/_harness/apigw/{http_api}"
    assert (call(f"{base}/broken").status, call(f"{base}/broken").json()) == (
        500,
        {"message": "Internal Server Error"},
    )
    slow = call(f"{base}/slow")  # 100 ms integration timeout, the function sleeps 1 s
    assert (slow.status, slow.json()) == (503, {"message": "Service Unavailable"})
    with caplog.at_level(logging.ERROR, logger="lambda_harness.endpoint.apigw"):
        denied = call(f"{base}/denied")
    assert (denied.status, denied.json()) == (500, {"message": "Internal Server Error"})
    assert "does not allow apigateway.amazonaws.com" in caplog.text and "GET/denied" in caplog.text
    assert "aws_lambda_permission" in denied.headers["x-lambda-harness-reason"]
    jwt = call(f"{base}/jwt", headers={"Authorization": "x"})
    assert jwt.status == 501 and "JWT authorizers are not emulated" in jwt.json()["message"]
    assert call(f"{endpoint.url}/_harness/apigw/nosuchapi/x").status == 404


def test_status_lines_and_error_bodies_as_aws_sends_them(
    endpoint: EmbeddedEndpoint, http_api: str, rest_api: Rest
) -> None:
    """Reason phrases are the standard ones (werkzeug upper-cases them); bodies byte for byte."""
    http = raw_call(endpoint.port, f"/_harness/apigw/{http_api}/broken", [])
    rest = raw_call(endpoint.port, f"/_harness/apigw/{rest_api.api_id}/dev/broken", [])
    missing = raw_call(endpoint.port, f"/_harness/apigw/{rest_api.api_id}/dev/items", [], method="PATCH")
    assert (http.status, http.reason, http.body) == (
        500,
        "Internal Server Error",
        b'{"message":"Internal Server Error"}',
    )
    assert (rest.status, rest.reason, rest.body) == (
        502,
        "Bad Gateway",
        b'{"message": "Internal server error"}',
    )
    assert (missing.status, missing.reason) == (200, "OK")  # ANY /{proxy+} takes it
    gone = raw_call(endpoint.port, f"/_harness/apigw/{rest_api.api_id}/prod/x", [])
    assert (gone.status, gone.reason, gone.body) == (403, "Forbidden", b'{"message":"Forbidden"}')


def test_http_api_without_default_route_is_404(endpoint: EmbeddedEndpoint, aws: Callable[[str], Any]) -> None:
    v2 = aws("apigatewayv2")
    api = v2.create_api(Name="bare", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api, StageName="dev")
    assert call(f"{endpoint.url}/_harness/apigw/{api}/dev/x").json() == {"message": "Not Found"}
    assert call(f"{endpoint.url}/_harness/apigw/{api}/x").status == 404  # no $default stage


def test_http_api_simple_authorizer_and_its_cache(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    url = f"{endpoint.url}/_harness/apigw/{http_api}/simple"
    assert call(url).status == 401  # no identity: the authorizer is not called
    assert call(url, headers={"X-Key": "wrong"}).json() == {"message": "Forbidden"}
    first = call(url, headers={"X-Key": "let-me-in"}).json()["requestContext"]["authorizer"]
    second = call(url, headers={"X-Key": "let-me-in"}).json()["requestContext"]["authorizer"]
    assert first == second and set(first) == {"lambda"}  # TTL 300: the second answer came from the cache


def test_http_api_iam_authorizer_payload_1_0(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    url = f"{endpoint.url}/_harness/apigw/{http_api}/policy"
    allowed = call(url, headers={"Authorization": "ok"})
    assert allowed.status == 200 and allowed.json()["requestContext"]["authorizer"]["lambda"]["admin"] is True
    assert call(url, headers={"Authorization": "deny"}).json() == {"message": "Forbidden"}
    assert call(url, headers={"Authorization": "fail"}).status == 401  # raised "Unauthorized"
    n1 = call(url, headers={"Authorization": "ok"}).json()["requestContext"]["authorizer"]["lambda"]["calls"]
    n2 = call(url, headers={"Authorization": "ok"}).json()["requestContext"]["authorizer"]["lambda"]["calls"]
    assert n2 == n1 + 1  # TTL 0: called every time


def test_http_api_cors(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    url = f"{endpoint.url}/_harness/apigw/{http_api}/simple"  # a route with an authorizer
    preflight = call(
        url,
        method="OPTIONS",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "GET"
    got = call(f"{endpoint.url}/_harness/apigw/{http_api}/items/1", headers={"Origin": "https://app.example"})
    # The API's CORS configuration replaces the function's own "*".
    assert got.headers["access-control-allow-origin"] == "https://app.example"


def test_index_lists_apis_stages_and_urls(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    listing = call(f"{endpoint.url}/_harness/apigw").json()["apis"]
    api = next(a for a in listing if a["id"] == http_api)
    stages = {s["name"]: s for s in api["stages"]}
    assert stages["dev"]["url"] == f"{endpoint.url}/_harness/apigw/{http_api}/dev/"
    assert stages["$default"]["host_url"] == f"http://{http_api}.execute-api.localhost:{endpoint.port}/"
    assert "GET /items/{id}" in stages["dev"]["routes"]


def test_too_large_request_is_413(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=60)
    conn.putrequest("POST", f"/_harness/apigw/{http_api}/v1")
    conn.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    conn.endheaders()  # the gateway answers from the header, before any body
    resp = conn.getresponse()
    assert resp.status == 413 and json.loads(resp.read()) == {"message": "Request Entity Too Large"}
    conn.close()


def test_http_api_repeated_headers_and_cookies(endpoint: EmbeddedEndpoint, http_api: str) -> None:
    repeated = [("X-M", "1"), ("X-M", "2"), ("Cookie", "a=1"), ("Cookie", "b=2; c=3")]
    v2 = raw_call(endpoint.port, f"/_harness/apigw/{http_api}/items/1", repeated).json()
    assert v2["headers"]["x-m"] == "1,2"  # 2.0: repeats joined with commas
    assert v2["cookies"] == ["a=1", "b=2", "c=3"] and "cookie" not in v2["headers"]
    v1 = raw_call(endpoint.port, f"/_harness/apigw/{http_api}/v1", repeated, method="POST").json()
    assert v1["headers"]["X-M"] == "2" and v1["multiValueHeaders"]["X-M"] == ["1", "2"]
    assert v1["multiValueHeaders"]["Cookie"] == ["a=1", "b=2; c=3"]


def test_http_api_event_over_lambda_limit_is_refused(
    endpoint: EmbeddedEndpoint, http_api: str, caplog: pytest.LogCaptureFixture
) -> None:
    # 7 MB of text: under API Gateway's 10 MB, over Lambda's 6 MB synchronous request limit.
    body = b"x" * (7 * 1024 * 1024)
    with caplog.at_level(logging.ERROR, logger="lambda_harness.endpoint.apigw"):
        got = raw_call(
            endpoint.port,
            f"/_harness/apigw/{http_api}/v1",
            [("Content-Type", "text/plain")],
            method="POST",
            body=body,
        )
    assert (got.status, got.json()) == (500, {"message": "Internal Server Error"})
    assert (
        "payload is too large for the RequestResponse invocation type"
        in got.headers["x-lambda-harness-reason"]
    )
    assert "(limit 6291456 bytes)" in caplog.text
    text = [("Content-Type", "text/plain")]
    small = raw_call(endpoint.port, f"/_harness/apigw/{http_api}/v1", text, method="POST", body=b"ok")
    assert small.status == 200 and small.json()["body"] == "ok"


def test_api_case_requests_carry_only_their_own_headers(
    endpoint: EmbeddedEndpoint, http_api: str, tmp_path: Path
) -> None:
    """An event case's string body is text (not urllib's form default), and the event sees no
    ``Connection``/``Accept-Encoding``/``User-Agent`` the case did not send."""
    folder = tmp_path / "http"
    folder.mkdir()
    (folder / "c.json").write_text(json.dumps({"request": {"method": "DELETE", "path": "/x", "body": "hi"}}))
    spec = load_request(EventCase("http", "c", folder / "c.json", None))
    answer = send(spec.url(f"{endpoint.url}/_harness/apigw/{http_api}/"), spec)
    event = json.loads(answer.body)  # the $default route, payload 2.0
    assert event["body"] == "hi" and event["isBase64Encoded"] is False
    assert event["headers"]["content-type"] == "text/plain; charset=utf-8"
    sent = set(event["headers"]) - {"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    assert sent == {"host", "content-type", "content-length"}


# --- REST APIs -----------------------------------------------------------------------------------


@dataclass
class Rest:
    api_id: str
    resources: dict[str, str]


@pytest.fixture(scope="module")
def rest_api(aws: Callable[[str], Any], fns: dict[str, str]) -> Rest:
    gw = aws("apigateway")
    created = gw.create_rest_api(name="rest", binaryMediaTypes=["image/png"])
    api, root = created["id"], created["rootResourceId"]
    assert created["binaryMediaTypes"] == ["image/png"]  # moto forgets them without the hook
    token = gw.create_authorizer(
        restApiId=api,
        name="token",
        type="TOKEN",
        authorizerUri=invoke_arn(fns["token_authorizer"]),
        identitySource="method.request.header.Authorization",
        identityValidationExpression="^Bearer .+$",
        authorizerResultTtlInSeconds=300,
    )
    assert token["identityValidationExpression"] == "^Bearer .+$"  # moto drops it without the hook
    resources = {"/": root}
    for parent, part in (
        ("/", "items"),
        ("/items", "{id}"),
        ("/", "{proxy+}"),
        ("/", "broken"),
        ("/", "bad"),
        ("/", "png"),
        ("/", "slow"),
    ):
        path = f"{parent.rstrip('/')}/{part}"
        resources[path] = gw.create_resource(restApiId=api, parentId=resources[parent], pathPart=part)["id"]
    methods = {
        ("/", "GET"): "echo",
        ("/items", "GET"): "echo",
        ("/items/{id}", "GET"): "echo",
        ("/{proxy+}", "ANY"): "echo",
        ("/broken", "GET"): "broken",
        ("/bad", "GET"): "malformed",
        ("/png", "POST"): "png",
        ("/slow", "GET"): "slow",
    }
    for (path, verb), handler in methods.items():
        auth = {"authorizationType": "CUSTOM", "authorizerId": token["id"]} if path == "/items/{id}" else {}
        gw.put_method(
            restApiId=api,
            resourceId=resources[path],
            httpMethod=verb,
            **({"authorizationType": "NONE"} | auth),
        )
        gw.put_integration(
            restApiId=api,
            resourceId=resources[path],
            httpMethod=verb,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=invoke_arn(fns[handler]),
            **({"timeoutInMillis": 100} if handler == "slow" else {}),
        )
    gw.create_deployment(restApiId=api, stageName="dev", variables={"table": "t"})
    return Rest(api, resources)


def test_rest_event_and_matching(endpoint: EmbeddedEndpoint, rest_api: Rest) -> None:
    base = f"{endpoint.url}/_harness/apigw/{rest_api.api_id}/dev"
    event = call(f"{base}/items?q=1&q=2").json()
    assert event["resource"] == "/items" and event["path"] == "/items" and event["httpMethod"] == "GET"
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]} and event[
        "queryStringParameters"
    ] == {"q": "2"}
    assert (
        event["stageVariables"] == {"table": "t"}
        and event["pathParameters"] is None
        and event["body"] is None
    )
    ctx = event["requestContext"]
    assert (
        ctx["path"] == "/dev/items"
        and ctx["resourceId"] == rest_api.resources["/items"]
        and ctx["stage"] == "dev"
    )
    proxy = call(f"{base}/a/b", method="PUT", data=b"x", headers={"Content-Type": "text/plain"}).json()
    assert (
        proxy["resource"] == "/{proxy+}"
        and proxy["pathParameters"] == {"proxy": "a/b"}
        and proxy["body"] == "x"
    )
    assert call(f"{base}/").json()["resource"] == "/"


def test_rest_errors(endpoint: EmbeddedEndpoint, rest_api: Rest) -> None:
    base = f"{endpoint.url}/_harness/apigw/{rest_api.api_id}"
    missing = call(f"{base}/dev/items", method="POST")  # /items has GET only; /{proxy+} ANY takes it
    assert missing.status == 200
    assert call(f"{base}/prod/items").json() == {"message": "Forbidden"}
    broken = call(f"{base}/dev/broken")
    assert (broken.status, broken.json()) == (502, {"message": "Internal server error"})
    bad = call(f"{base}/dev/bad")
    assert bad.status == 502 and "Malformed Lambda proxy response" in bad.headers["x-lambda-harness-reason"]
    slow = call(f"{base}/dev/slow")
    assert (slow.status, slow.json()) == (504, {"message": "Endpoint request timed out"})


def test_rest_repeated_headers_keep_every_value(endpoint: EmbeddedEndpoint, rest_api: Rest) -> None:
    path = f"/_harness/apigw/{rest_api.api_id}/dev/items"
    event = raw_call(endpoint.port, path, [("X-M", "1"), ("x-m", "2"), ("Accept", "a/b")]).json()
    assert event["headers"]["X-M"] == "2"  # the last value
    assert event["multiValueHeaders"]["X-M"] == ["1", "2"] and event["multiValueHeaders"]["Accept"] == ["a/b"]


def test_rest_event_over_lambda_limit_is_refused(endpoint: EmbeddedEndpoint, rest_api: Rest) -> None:
    path = f"/_harness/apigw/{rest_api.api_id}/dev/a/b"  # ANY /{proxy+} -> echo
    got = raw_call(
        endpoint.port, path, [("Content-Type", "text/plain")], method="PUT", body=b"x" * (7 * 1024 * 1024)
    )
    assert (got.status, got.json()) == (502, {"message": "Internal server error"})
    assert got.headers["x-amzn-errortype"] == "InternalServerErrorException"
    assert "(limit 6291456 bytes)" in got.headers["x-lambda-harness-reason"]


def test_rest_unknown_route_is_missing_authentication_token(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], fns: dict[str, str]
) -> None:
    gw = aws("apigateway")
    created = gw.create_rest_api(name="narrow")
    res = gw.create_resource(restApiId=created["id"], parentId=created["rootResourceId"], pathPart="only")[
        "id"
    ]
    gw.put_method(restApiId=created["id"], resourceId=res, httpMethod="GET", authorizationType="NONE")
    gw.put_integration(
        restApiId=created["id"],
        resourceId=res,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invoke_arn(fns["echo"]),
    )
    gw.create_deployment(restApiId=created["id"], stageName="v1")
    base = f"{endpoint.url}/_harness/apigw/{created['id']}/v1"
    for method, path in (("GET", "/other"), ("POST", "/only")):
        got = call(f"{base}{path}", method=method)
        assert (got.status, got.json()) == (403, {"message": "Missing Authentication Token"})
        assert got.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    # A method added after the deployment is not served until the API is deployed again.
    gw.put_method(restApiId=created["id"], resourceId=res, httpMethod="POST", authorizationType="NONE")
    gw.put_integration(
        restApiId=created["id"],
        resourceId=res,
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invoke_arn(fns["echo"]),
    )
    assert call(f"{base}/only", method="POST").status == 403
    gw.create_deployment(restApiId=created["id"], stageName="v1")
    assert call(f"{base}/only", method="POST").status == 200


def test_rest_token_authorizer(endpoint: EmbeddedEndpoint, rest_api: Rest) -> None:
    url = f"{endpoint.url}/_harness/apigw/{rest_api.api_id}/dev/items/7"
    assert call(url).json() == {"message": "Unauthorized"}
    assert call(url, headers={"Authorization": "Token x"}).status == 401  # fails identityValidationExpression
    deny = call(url, headers={"Authorization": "Bearer deny"})
    assert deny.status == 403 and "explicit deny" in deny.json()["Message"]
    assert deny.headers["x-amzn-errortype"] == "AccessDeniedException"
    event = call(url, headers={"Authorization": "Bearer ok"}).json()
    authorizer = event["requestContext"]["authorizer"]
    assert (
        authorizer["principalId"] == "user-1"
        and authorizer["admin"] == "true"
        and "integrationLatency" in authorizer
    )
    # TTL 300 and a policy naming only .../GET/items/7: another id is denied from the cache, as on AWS.
    other = call(url.replace("/items/7", "/items/8"), headers={"Authorization": "Bearer ok"})
    assert other.status == 403 and other.json() == {
        "Message": "User is not authorized to access this resource"
    }


def test_rest_binary_round_trip(endpoint: EmbeddedEndpoint, rest_api: Rest) -> None:
    url = f"{endpoint.url}/_harness/apigw/{rest_api.api_id}/dev/png"
    got = call(
        url, method="POST", data=b"\x89PNG-in", headers={"Content-Type": "image/png", "Accept": "image/png"}
    )
    assert got.status == 200 and got.body == b"\x89PNG-out"
    as_text = call(url, method="POST", data=b"x", headers={"Accept": "application/json"})
    assert as_text.body == base64.b64encode(b"\x89PNG-out")


# --- control plane: moto's gaps and bugs, fixed --------------------------------------------------


def test_binary_media_types_patch_with_json_pointer_paths(aws: Callable[[str], Any]) -> None:
    gw = aws("apigateway")
    api = gw.create_rest_api(name="bin")["id"]
    ops = [
        {"op": "add", "path": "/binaryMediaTypes/image~1png"},
        {"op": "add", "path": "/binaryMediaTypes/*~1*"},
    ]
    assert gw.update_rest_api(restApiId=api, patchOperations=ops)["binaryMediaTypes"] == ["image/png", "*/*"]
    ops = [{"op": "remove", "path": "/binaryMediaTypes/image~1png"}]
    assert gw.update_rest_api(restApiId=api, patchOperations=ops)["binaryMediaTypes"] == ["*/*"]


def test_openapi_import_rest(aws: Callable[[str], Any], fns: dict[str, str]) -> None:
    integration = {"type": "aws_proxy", "httpMethod": "POST", "uri": invoke_arn(fns["echo"])}
    doc = {
        "swagger": "2.0",
        "info": {"title": "imported", "version": "1"},
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "securityDefinitions": {
            "tok": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": invoke_arn(fns["token_authorizer"]),
                },
            }
        },
        "paths": {
            "/items/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
                "x-amazon-apigateway-any-method": {
                    "security": [{"tok": []}],
                    "x-amazon-apigateway-integration": integration,
                },
            }
        },
    }
    gw = aws("apigateway")
    created = gw.create_rest_api(name="imported")
    api = gw.put_rest_api(restApiId=created["id"], mode="overwrite", body=json.dumps(doc))
    assert api["rootResourceId"] == created["rootResourceId"] and api["binaryMediaTypes"] == ["image/png"]
    items = {r["path"]: r for r in gw.get_resources(restApiId=created["id"], embed=["methods"])["items"]}
    assert items["/"]["id"] == created["rootResourceId"]
    method = items["/items/{id}"]["resourceMethods"]["ANY"]
    assert method["authorizationType"] == "CUSTOM"
    authorizer = gw.get_authorizer(restApiId=created["id"], authorizerId=method["authorizerId"])
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    assert method["methodIntegration"]["type"] == "AWS_PROXY"


def test_openapi_reimport_http_keeps_stages(aws: Callable[[str], Any], fns: dict[str, str]) -> None:
    v2 = aws("apigatewayv2")
    api = v2.create_api(Name="body", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "body", "version": "2.1"},
        "paths": {
            "/ping": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": invoke_arn(fns["echo"]),
                        "payloadFormatVersion": "2.0",
                    }
                }
            }
        },
    }
    v2.reimport_api(ApiId=api, Body=json.dumps(doc))
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=api)["Items"]] == ["GET /ping"]
    assert [s["StageName"] for s in v2.get_stages(ApiId=api)["Items"]] == ["$default"]
    assert v2.get_api(ApiId=api)["Version"] == "2.1"


def test_v2_operations_moto_lacks(aws: Callable[[str], Any], http_api: str) -> None:
    v2 = aws("apigatewayv2")
    names = {a["Name"] for a in v2.get_authorizers(ApiId=http_api)["Items"]}
    assert names == {"simple", "policy", "jwt"}
    deployment = v2.create_deployment(ApiId=http_api, Description="first")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert (
        v2.get_deployment(ApiId=http_api, DeploymentId=deployment["DeploymentId"])["Description"] == "first"
    )
    assert [d["DeploymentId"] for d in v2.get_deployments(ApiId=http_api)["Items"]] == [
        deployment["DeploymentId"]
    ]
    stage = v2.update_stage(ApiId=http_api, StageName="dev", StageVariables={"table": "", "extra": "1"})
    assert stage["StageVariables"] == {"extra": "1"}
    v2.update_stage(ApiId=http_api, StageName="dev", StageVariables={"table": "t-dev", "extra": ""})
    v2.delete_deployment(ApiId=http_api, DeploymentId=deployment["DeploymentId"])
    with pytest.raises(ClientError) as missing:
        v2.get_deployment(ApiId=http_api, DeploymentId=deployment["DeploymentId"])
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_moto_crash_on_api_gateway_is_a_fast_400(aws: Callable[[str], Any], rest_api: Rest) -> None:
    gw = aws("apigateway")
    authorizer = gw.get_authorizers(restApiId=rest_api.api_id)["items"][0]["id"]
    with pytest.raises(ClientError) as caught:  # moto raises a bare Exception for this patch path
        gw.update_authorizer(
            restApiId=rest_api.api_id,
            authorizerId=authorizer,
            patchOperations=[{"op": "add", "path": "/providerARNs/arn:x"}],
        )
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "BadRequestException"
    assert "moto failed on PATCH" in error["Error"]["Message"]
