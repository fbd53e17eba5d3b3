"""``IamGuard``: WSGI middleware in front of the endpoint that enforces function roles.

Only requests signed with a registered function session (``credentials``) are
evaluated; Terraform's, the harness's and the tests' requests pass after one dict
lookup. For a session request: check its session token, name the operation with
moto's botocore-driven router, parse its input, map it to IAM checks (``actions``),
decide each against the role's policies and the resource's policy (``evaluate``),
record the outcome (``ledger``) and, in ``enforce`` mode, answer a denial the way
the service does (``responses``). ``warn`` records and lets it through; ``off``
evaluates nothing. ``GET /_harness/iam`` serves the ledger and the least-privilege
report as JSON.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import Request as MotoRequest
from moto.core.request import determine_request_protocol
from moto.core.routing import get_service_router

from lambda_harness import net
from lambda_harness.endpoint.iam import responses
from lambda_harness.endpoint.iam.actions import ALWAYS_ALLOWED, NotEvaluable, Operation, checks_for
from lambda_harness.endpoint.iam.authorize import Authorizer
from lambda_harness.endpoint.iam.catalog import load_catalog
from lambda_harness.endpoint.iam.credentials import FunctionSession, SessionRegistry
from lambda_harness.endpoint.iam.evaluate import Check, Decision
from lambda_harness.endpoint.iam.ledger import LEDGER_VERSION, Ledger, denial_dict
from lambda_harness.endpoint.iam.lookups import MotoLookups, RoleDocuments
from lambda_harness.endpoint.iam.report import least_privilege
from lambda_harness.endpoint.wsgi import JsonResponse, Request, StartResponse, WSGIApp

logger = logging.getLogger(__name__)

MODES = ("enforce", "warn", "off")
IAM_PATH = net.HARNESS_IAM
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(
    r"X-Amz-Credential=([^%&/]+)(?:%2F|/)\d{8}(?:%2F|/)([^%&/]+)(?:%2F|/)([^%&/]+)"
)
#: SigV4 signing names that differ from botocore's service names.
SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "states": "stepfunctions", "email": "ses"}


def signed_by(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(access key, region, signing name) of a SigV4 request (header or presigned URL)."""
    auth = environ.get("HTTP_AUTHORIZATION")
    if auth:
        match = _CREDENTIAL.search(auth)
        return (match.group(1), match.group(2), match.group(3)) if match else None
    query = environ.get("QUERY_STRING") or ""
    if "X-Amz-Credential" in query:
        match = _QUERY_CREDENTIAL.search(query)
        return (match.group(1), match.group(2), match.group(3)) if match else None
    return None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The whole request body (by Content-Length, or to the end of a chunked request)."""
    if "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower():
        return bytes(environ["wsgi.input"].read())
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length)) if length else b""


def _token(environ: dict[str, Any]) -> str | None:
    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    if token is None and "X-Amz-Security-Token" in (environ.get("QUERY_STRING") or ""):
        values = parse_qs(environ["QUERY_STRING"]).get("X-Amz-Security-Token")
        token = values[0] if values else None
    return token


class IamGuard:
    """The endpoint's WSGI app wrapped with function-role enforcement (see the module doc)."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        mode: str,
        registry: SessionRegistry,
        ledger: Ledger,
        lookups: MotoLookups | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"iam mode {mode!r} is not one of {', '.join(MODES)}")
        self.app = app
        self.mode = mode
        self.registry = registry
        self.ledger = ledger
        self.lookups = lookups or MotoLookups()
        self.authorizer = Authorizer(self.lookups)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(IAM_PATH):
            return self._served(Request(environ))(environ, start_response)
        if self.mode == "off":
            return self.app(environ, start_response)
        signed = signed_by(environ)
        session = self.registry.get(signed[0]) if signed else None
        if session is None or signed is None:
            return self.app(environ, start_response)  # Terraform, the harness, the tests
        return self._guarded(session, signed[1], signed[2], environ, start_response)

    # --- one function-session request ------------------------------------------------------------

    def _guarded(
        self,
        session: FunctionSession,
        region: str,
        signing: str,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        service = SIGNING_TO_SERVICE.get(signing, signing)
        if _token(environ) != session.session_token:
            return responses.invalid_token(service)(environ, start_response)
        parsed = self._parse(service, region, session, environ)
        if parsed is None or (service, parsed[0].name) in ALWAYS_ALLOWED:
            return self.app(environ, start_response)
        op, protocol = parsed
        checks = self._checks(session, op)
        if checks is None:
            return self.app(environ, start_response)
        role = self.lookups.role(session.account, session.role_arn)
        if role.permissions_boundary:
            self.ledger.note(session, f"permissions boundary {role.permissions_boundary} is not evaluated")
        for check in checks:
            refused = self._check(session, role, op, check)
            if refused is not None and self.mode == "enforce":
                head = environ.get("REQUEST_METHOD") == "HEAD"
                return responses.access_denied(service, protocol, refused, head=head)(environ, start_response)
        if service == "s3" and op.name in ("GetObject", "HeadObject"):
            return self._watch_missing_key(session, role, op, environ, start_response)
        if (service, op.name) == ("sts", "AssumeRole"):
            self.ledger.note(
                session,
                f"sts:AssumeRole of {op.params.get('RoleArn')}: requests signed with the credentials it "
                "returns are not evaluated by lambda-harness",
            )
        return self.app(environ, start_response)

    def _checks(self, session: FunctionSession, op: Operation) -> list[Check] | None:
        """The checks of ``op``; None (recorded as not evaluated) when the guard cannot tell them."""
        try:
            checks = checks_for(op, self.lookups)
        except (NotEvaluable, KeyError, TypeError, ValueError) as exc:
            self.ledger.unevaluated(session, op.service, op.name, f"request not understood: {exc}")
            return None
        if checks is None:
            self.ledger.unevaluated(session, op.service, op.name, "no IAM mapping for this operation")
        return checks

    def _check(
        self, session: FunctionSession, role: RoleDocuments, op: Operation, check: Check
    ) -> str | None:
        """Decide and record one check; AWS's message when it is refused."""
        decision = self._decide(session, role, op.service, check)
        if decision.allowed:
            self.ledger.use(
                session, check.action, check.resource, decision.statements, unevaluable=decision.unevaluable
            )
            return None
        text = responses.message(session.session_arn, op.service, check.action, check.resource, decision)
        self.ledger.deny(
            function=session.function,
            role_arn=session.role_arn,
            session_arn=session.session_arn,
            service=op.service,
            operation=op.name,
            action=check.action,
            resource=check.resource,
            effect=decision.effect,
            policy_type=decision.policy_type,
            statements=tuple(ref.to_dict() for ref in decision.statements),
            message=text,
            request_id=session.request_id,
            enforced=self.mode == "enforce",
            unevaluable=tuple(sorted(decision.unevaluable)),
        )
        logger.info("%s: %s", session.function, text)
        return text

    def _parse(
        self, service: str, region: str, session: FunctionSession, environ: dict[str, Any]
    ) -> tuple[Operation, str] | None:
        """The operation and its input (None: not understood; recorded as not evaluated)."""
        body = b""
        # S3 bodies (uploads) are never read, except the key list of a DeleteObjects.
        if service != "s3" or (
            environ.get("REQUEST_METHOD") == "POST" and "delete" in environ.get("QUERY_STRING", "")
        ):
            body = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        probe = dict(environ)
        probe["wsgi.input"] = io.BytesIO(body)
        if service == "s3":
            probe["CONTENT_LENGTH"] = str(len(body))
        request = MotoRequest(probe)
        try:
            router = get_service_router(service)
            operation, uri_params = router.match(request)
        except Exception as exc:  # unknown service, unknown route: moto answers the request itself
            self.ledger.unevaluated(session, service, "(unrecognised)", f"{type(exc).__name__}")
            return None
        protocol = determine_request_protocol(operation.service_model, request.content_type)
        params: dict[str, Any] = dict(uri_params)
        try:
            parser = PROTOCOL_PARSERS[protocol](operation)
            params.update(
                parser.parse(
                    {
                        "method": request.method,
                        "values": request.values,
                        "headers": request.headers,
                        "body": body,
                        "url_path": request.path,
                        "url_params": uri_params,
                    }
                )
            )
        except Exception as exc:  # a protocol moto cannot parse (CBOR): the URI params may still do
            logger.debug("iam: could not parse %s %s input: %s", service, operation.name, exc)
        headers = {k.lower(): v for k, v in request.headers.items()}
        return Operation(service, operation.name, params, region, session.account, headers), protocol

    def _decide(self, session: FunctionSession, role: RoleDocuments, service: str, check: Check) -> Decision:
        return self.authorizer.decide(session.principal, role, service, check, session.region)

    def _watch_missing_key(
        self,
        session: FunctionSession,
        role: RoleDocuments,
        op: Operation,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """AWS answers 403, not 404, for a missing key when the role may not list the bucket."""

        def watching(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("404"):
                bucket = f"arn:aws:s3:::{op.params.get('Bucket')}"
                listing = self._decide(
                    session, role, "s3", Check("s3:ListBucket", bucket, {"s3:prefix": ("",)})
                )
                if not listing.allowed:
                    self.ledger.note(
                        session,
                        f"s3:{op.name} of a missing key in {bucket}: AWS answers 403 AccessDenied, not "
                        "404 NoSuchKey, because the role may not s3:ListBucket on the bucket "
                        "(code that catches NoSuchKey sees AccessDenied after deploy)",
                    )
            return start_response(status, headers, exc_info)

        return self.app(environ, watching)

    # --- the platform's own calls -------------------------------------------------------------------

    def platform_checks(self, session: FunctionSession) -> None:
        """What Lambda itself does with the role when an environment starts: write the function's logs.

        Recorded as uses (so the report does not call the Logs statement unused); refused
        ones become notes, since AWS drops the logs silently rather than failing the function.
        """
        self.ledger.session_started(session)
        if self.mode == "off":
            return
        group = f"/aws/lambda/{session.function}"
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        group_arn = f"arn:aws:logs:{session.region}:{session.account}:log-group:{group}"
        stream = f"{group_arn}:log-stream:{day}/[{session.version}]0"
        checks = [Check("logs:CreateLogStream", stream), Check("logs:PutLogEvents", stream)]
        if not self.lookups.log_group_exists(session.account, session.region, group):
            checks.insert(0, Check("logs:CreateLogGroup", group_arn))
        role = self.lookups.role(session.account, session.role_arn)
        refused = []
        for check in checks:
            decision = self._decide(session, role, "logs", check)
            if decision.allowed:
                self.ledger.use(session, check.action, check.resource, decision.statements)
            else:
                refused.append(check.action)
        if refused:
            self.ledger.note(
                session,
                f"the role may not {', '.join(refused)} on {group_arn}:*, so on AWS the function's "
                "logs would be dropped (silently: the function itself does not fail)",
            )

    # --- GET /_harness/iam ----------------------------------------------------------------------------

    def _served(self, request: Request) -> JsonResponse:  # noqa: PLR0911 (one return per route)
        path = request.path.rstrip("/")
        if path == f"{IAM_PATH}/mark":
            if request.method != "POST":
                return JsonResponse(json.dumps({"message": f"use POST {request.path}"}), 405)
            run = self.ledger.mark()
            return JsonResponse(json.dumps({"version": LEDGER_VERSION, "mode": self.mode, "run": run}))
        if request.method != "GET":
            return JsonResponse(json.dumps({"message": f"use GET {request.path}"}), 405)
        try:
            since = int(request.args.get("since") or 0)
            after = int(request.args.get("after") or 0)
        except ValueError:
            return JsonResponse(json.dumps({"message": "since and after are integers"}), 400)
        if path == f"{IAM_PATH}/trust":
            findings = [vars(f) for f in self.ledger.trust_findings(after, since=since)]
            return JsonResponse(json.dumps({"version": LEDGER_VERSION, "mode": self.mode, "trust": findings}))
        if path != IAM_PATH:
            return JsonResponse(json.dumps({"message": f"no harness route {request.path}"}), 404)
        request_id = request.args.get("request_id")
        if request_id is not None:
            denials = [denial_dict(d) for d in self.ledger.denials(request_id, since=since)]
            return JsonResponse(
                json.dumps({"version": LEDGER_VERSION, "mode": self.mode, "denials": denials})
            )
        return JsonResponse(json.dumps(self.snapshot(since=since)))

    def snapshot(self, *, since: int = 0) -> dict[str, Any]:
        """What the ledger holds (from run ``since`` on), with each role's least-privilege report."""
        catalog = load_catalog()
        functions = self.ledger.functions(since=since)
        roles: dict[str, Any] = {}
        for role_arn, uses in self.ledger.uses_by_role(since=since).items():
            account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
            report = least_privilege(self.lookups.role(account, role_arn), uses, catalog)
            report["functions"] = sorted(n for n, f in functions.items() if f["role_arn"] == role_arn)
            roles[role_arn] = report
        return {
            "version": LEDGER_VERSION,
            "mode": self.mode,
            "catalog": catalog.source,
            "since": since,
            "functions": functions,
            "roles": roles,
            "denials": [denial_dict(d) for d in self.ledger.denials(since=since)],
            "trust": [vars(f) for f in self.ledger.trust_findings(since=since)],
        }
