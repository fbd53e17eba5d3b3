"""AWS's AccessDenied, per service: the message text and the wire shape each SDK parses.

Message (IAM User Guide, "Troubleshoot access denied error messages"; real answers
captured in the research notes): ``User: <session ARN> is not authorized to perform:
<action> on resource: <ARN> because no identity-based policy allows the <action>
action``, or ``... with an explicit deny in an identity-based policy``. S3 quotes
the resource; SQS lower-cases the action; SNS writes its prefix ``SNS:``; an
action no resource scopes has no ``on resource`` part.
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

from lambda_harness.endpoint.iam.evaluate import Decision
from lambda_harness.endpoint.wsgi import JsonResponse

#: Services answering with AWS JSON 1.0/1.1 (``__type``) and HTTP 400.
JSON_SERVICES = frozenset(
    {"dynamodb", "kms", "secretsmanager", "ssm", "events", "logs", "kinesis", "stepfunctions", "xray"}
)


def shown_action(service: str, action: str) -> str:
    """The action as the service writes it in its message."""
    if service == "sqs":
        return action.lower()
    if service == "sns":
        return "SNS:" + action.split(":", 1)[1]
    return action


def message(session_arn: str, service: str, action: str, resource: str, decision: Decision) -> str:
    """AWS's AccessDenied message for one refused check."""
    shown = shown_action(service, action)
    target = f'"{resource}"' if service == "s3" else resource
    where = "" if resource == "*" else f" on resource: {target}"
    kind = decision.policy_type or "identity-based"
    if decision.effect == "explicit-deny":
        why = (
            f"with an explicit deny in an {kind} policy"
            if kind[0] in "aeiou"
            else f"with an explicit deny in a {kind} policy"
        )
    else:
        why = f"because no {kind} policy allows the {shown} action"
    return f"User: {session_arn} is not authorized to perform: {shown}{where} {why}"


def _request_id() -> str:
    return str(uuid.uuid4())


def _query_xml(code: str, text: str, request_id: str) -> bytes:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(text)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _s3_xml(code: str, text: str, request_id: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(text)}</Message>'
        f"<RequestId>{request_id}</RequestId><HostId>lambda-harness</HostId></Error>"
    ).encode()


def _coral(
    error_type: str, text: str, request_id: str, *, key: str = "Message", status: int = 400
) -> JsonResponse:
    """An AWS JSON protocol error (``__type`` names it; DynamoDB, KMS, SSM... answer 400)."""
    body = json.dumps({"__type": f"com.amazon.coral.service#{error_type}", key: text})
    return JsonResponse(
        body, status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}
    )


def _rest_json(error_type: str, text: str, request_id: str) -> JsonResponse:
    """Lambda's REST-JSON error: the type in a header, the message in the body."""
    body = json.dumps({"Type": "User", "Message": text})
    return JsonResponse(body, 403, {"x-amzn-ErrorType": error_type, "x-amzn-RequestId": request_id})


def access_denied(service: str, protocol: str, text: str, *, head: bool = False) -> JsonResponse:
    """The refusal as ``service`` sends it over ``protocol`` (botocore parses code and message)."""
    rid = _request_id()
    if service == "s3":
        headers = {"Content-Type": "application/xml", "x-amz-request-id": rid}
        return JsonResponse(b"" if head else _s3_xml("AccessDenied", text, rid), 403, headers)
    if service == "sqs" and protocol == "json":
        answer = _coral("AccessDeniedException", text, rid, key="message", status=403)
        answer.headers["x-amzn-query-error"] = "AccessDenied;Sender"
        answer.headers["Content-Type"] = "application/x-amz-json-1.0"
        return answer
    if protocol in ("query", "ec2"):
        code = "AuthorizationError" if service == "sns" else "AccessDenied"
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": rid}
        return JsonResponse(_query_xml(code, text, rid), 403, headers)
    if protocol == "rest-json":
        return _rest_json("AccessDeniedException", text, rid)
    return _coral("AccessDeniedException", text, rid)


def invalid_token(service: str) -> JsonResponse:
    """A function-session key presented with the wrong session token (AWS: InvalidClientTokenId)."""
    text = "The security token included in the request is invalid."
    rid = _request_id()
    if service == "s3":
        invalid = "The provided token is malformed or otherwise invalid."
        return JsonResponse(_s3_xml("InvalidToken", invalid, rid), 400, {"Content-Type": "application/xml"})
    if service == "lambda":
        return _rest_json("UnrecognizedClientException", text, rid)
    if service in JSON_SERVICES:
        return _coral("UnrecognizedClientException", text, rid)
    return JsonResponse(_query_xml("InvalidClientTokenId", text, rid), 403, {"Content-Type": "text/xml"})
