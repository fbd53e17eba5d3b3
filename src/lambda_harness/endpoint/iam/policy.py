"""IAM policy documents, compiled once: statements with their patterns ready to match.

``compile_policy(text_or_dict, source)`` parses a JSON policy (Terraform sends JSON;
moto may keep it URL-encoded) into a ``Policy`` of ``Statement``s. Patterns follow
AWS: ``*`` and ``?`` are the only wildcards, actions match case-insensitively,
resources and principals case-sensitively; ``${...}`` policy variables are
substituted per request. Compiling is cached by document text, so a re-applied
policy is simply a new text and needs no invalidation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote

from lambda_harness.errors import EndpointError

#: What kind of document a statement came from (the report and the fix text name it).
PolicyKind = Literal["inline", "managed", "aws-managed", "bucket", "queue", "key", "trust"]
#: Whether AWS calls it an identity-based or a resource-based policy (its messages do).
IDENTITY_KINDS = frozenset({"inline", "managed", "aws-managed"})

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class PolicySource:
    """Where a document lives: an inline policy of a role, a managed policy ARN, a bucket..."""

    kind: PolicyKind
    name: str  # inline: policy name; managed: policy ARN; bucket/queue/key: resource name or ARN
    role: str | None = None  # the role an inline policy belongs to

    @property
    def policy_type(self) -> str:
        """``identity-based`` or ``resource-based`` (AWS's words in its AccessDenied messages)."""
        return "identity-based" if self.kind in IDENTITY_KINDS else "resource-based"

    def describe(self) -> str:
        """``inline policy worker of role acme-worker``, ``AWS-managed policy AmazonS3ReadOnlyAccess``..."""
        if self.kind == "inline":
            return f"inline policy {self.name} of role {self.role}"
        if self.kind == "aws-managed":
            return f"AWS-managed policy {self.name.rsplit('/', 1)[-1]}"
        if self.kind == "managed":
            return f"managed policy {self.name.rsplit('/', 1)[-1]}"
        return {"bucket": "bucket policy of ", "queue": "queue policy of ", "key": "key policy of "}.get(
            self.kind, "trust policy of "
        ) + self.name


@dataclass(frozen=True)
class StatementRef:
    """One statement of one document: ``Sid`` when it has one, else its position (1-based)."""

    source: PolicySource
    index: int
    sid: str | None = None

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.source.name,
            "kind": self.source.kind,
            "role": self.source.role,
            "sid": self.sid,
            "index": self.index,
            "label": self.label,
        }


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` pair of a statement's Condition block."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Principals:
    """A statement's Principal: ``"*"``, or AWS / Service / Federated identifiers."""

    anyone: bool
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """A compiled statement. ``resources`` None: no Resource element (trust and some resource policies)."""

    ref: StatementRef
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None
    not_resource: bool
    principals: Principals | None
    not_principal: bool
    conditions: tuple[Condition, ...]
    raw: Mapping[str, Any] = field(compare=False, repr=False)

    def matches_action(self, action: str) -> bool:
        """Whether Action (or NotAction) selects ``action`` (case-insensitive, like AWS)."""
        hit = _any_glob(self.actions, action.lower(), ignore_case=True)
        return not hit if self.not_action else hit

    def matches_resource(self, resource: str, variables: Callable[[str], str | None]) -> bool:
        """Whether Resource (or NotResource) covers ``resource``; no element: any resource."""
        if self.resources is None:
            return True
        hit = any(_glob(substitute(p, variables)).match(resource) for p in self.resources)
        return not hit if self.not_resource else hit


@dataclass(frozen=True)
class Policy:
    """A parsed document: its statements in order and where it came from."""

    source: PolicySource
    statements: tuple[Statement, ...]
    text: str = field(compare=False, repr=False)


def as_list(value: Any) -> list[Any]:
    """AWS lets a single value stand for a one-element list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out) + r"\Z", (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _any_glob(patterns: Sequence[str], value: str, *, ignore_case: bool) -> bool:
    return any(_glob(p, ignore_case).match(value) for p in patterns)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """AWS wildcard match: ``*`` any run of characters, ``?`` one character, nothing else special."""
    return _glob(pattern, ignore_case).match(value) is not None


def substitute(pattern: str, variables: Callable[[str], str | None]) -> str:
    """Replace ``${aws:userid}``-style variables; ``${*}``, ``${?}``, ``${$}`` are literal characters.

    A variable with no value makes the pattern match nothing (AWS: the statement does
    not apply), so it becomes a character no ARN contains.
    """
    if "${" not in pattern:
        return pattern

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _ESCAPES:
            # ${*} and ${?} stand for the characters themselves; our globs have no escape,
            # so they stay wildcards (documented, and rare in Lambda roles).
            return _ESCAPES[name]
        value = variables(name)
        return "\x01" if value is None else value

    replaced = _VARIABLE.sub(one, pattern)
    return "\x01" if "\x01" in replaced else replaced


def _principals(value: Any) -> Principals:
    if value == "*":
        return Principals(anyone=True)
    if not isinstance(value, dict):
        raise ValueError(f'Principal must be "*" or an object, not {value!r}')
    aws = tuple(str(v) for v in as_list(value.get("AWS")))
    return Principals(
        anyone="*" in aws,
        aws=aws,
        service=tuple(str(v) for v in as_list(value.get("Service"))),
        federated=tuple(str(v) for v in as_list(value.get("Federated"))),
    )


def _conditions(block: Any) -> tuple[Condition, ...]:
    if not block:
        return ()
    if not isinstance(block, dict):
        raise ValueError("Condition must be an object")
    out = []
    for operator, pairs in block.items():
        if not isinstance(pairs, dict):
            raise ValueError(f"Condition {operator} must map keys to values")
        for key, values in pairs.items():
            shown = tuple(_condition_text(v) for v in as_list(values))
            out.append(Condition(str(operator), str(key), shown))
    return tuple(out)


def _condition_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _statement(raw: Any, source: PolicySource, index: int) -> Statement:
    if not isinstance(raw, dict):
        raise ValueError(f"statement #{index + 1} is not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"statement #{index + 1}: Effect must be Allow or Deny, not {effect!r}")
    not_action = "NotAction" in raw
    actions = tuple(str(a).lower() for a in as_list(raw.get("NotAction" if not_action else "Action")))
    not_resource = "NotResource" in raw
    resources: tuple[str, ...] | None = None
    if not_resource or "Resource" in raw:
        resources = tuple(str(r) for r in as_list(raw.get("NotResource" if not_resource else "Resource")))
    not_principal = "NotPrincipal" in raw
    principal_value = raw.get("NotPrincipal" if not_principal else "Principal")
    return Statement(
        ref=StatementRef(source, index, str(raw["Sid"]) if raw.get("Sid") else None),
        effect=effect,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principals=None if principal_value is None else _principals(principal_value),
        not_principal=not_principal,
        conditions=_conditions(raw.get("Condition")),
        raw=raw,
    )


def parse_document(text: str | bytes) -> dict[str, Any]:
    """A policy document as a dict; moto keeps some documents URL-encoded."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    stripped = text.strip()
    if stripped.startswith(("%7B", "%7b")):
        stripped = unquote(stripped)
    doc = json.loads(stripped)
    if not isinstance(doc, dict):
        raise ValueError("a policy document is a JSON object")
    return doc


@lru_cache(maxsize=2048)
def _compile_text(text: str, source: PolicySource) -> Policy:
    try:
        doc = parse_document(text)
        statements = tuple(_statement(s, source, i) for i, s in enumerate(as_list(doc.get("Statement"))))
    except ValueError as exc:
        raise EndpointError(f"{source.describe()}: not a valid policy document ({exc})") from exc
    return Policy(source, statements, text)


def compile_policy(document: str | bytes | Mapping[str, Any], source: PolicySource) -> Policy:
    """A compiled ``Policy``; EndpointError naming the document when it cannot be read."""
    if isinstance(document, Mapping):
        document = json.dumps(document, sort_keys=True)
    if isinstance(document, bytes):
        document = document.decode("utf-8")
    return _compile_text(document, source)
