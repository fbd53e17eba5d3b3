"""The decision for one (action, resource) check: AWS's same-account evaluation logic.

1. An explicit ``Deny`` in any applicable policy (identity or resource) denies.
2. An ``Allow`` in an identity-based policy, or in a resource-based policy whose
   ``Principal`` names the role, its session or ``*``, allows. (A resource policy
   that names only the account delegates to IAM: it allows nothing by itself.)
3. Otherwise the request is implicitly denied.

KMS differs: the key policy must allow, either the principal directly or the
account root (which delegates to the identity policies, which must then allow).
Permission boundaries, SCPs and session policies are not evaluated (docs/explanation/iam.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lambda_harness.endpoint.iam.conditions import Context, check_conditions
from lambda_harness.endpoint.iam.policy import Policy, Principals, Statement, StatementRef

Effect = Literal["allow", "explicit-deny", "implicit-deny"]


@dataclass(frozen=True)
class Check:
    """One authorization question a request asks (a request may ask several)."""

    action: str  # "s3:GetObject"
    resource: str  # an ARN, or "*" for actions no resource scopes
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # request-specific keys


@dataclass(frozen=True)
class Principal:
    """Who asks: the function's role session."""

    account: str
    role_arn: str
    session_arn: str
    role_id: str = ""

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    def named_by(self, principals: Principals) -> bool:
        """Whether a resource policy's Principal names this session (the account alone does not)."""
        if principals.anyone:
            return True
        return any(p in (self.role_arn, self.session_arn, self.role_id) for p in principals.aws)

    def account_named_by(self, principals: Principals) -> bool:
        """Whether a Principal names this session's account (``arn:aws:iam::<a>:root`` or the id)."""
        root = f"arn:aws:iam::{self.account}:root"
        return principals.anyone or any(p in (root, self.account) for p in principals.aws)


@dataclass(frozen=True)
class Decision:
    """The answer, the statements that decided it and the keys it had to assume absent."""

    effect: Effect
    policy_type: str | None = None  # "identity-based" | "resource-based": what AWS's message names
    statements: tuple[StatementRef, ...] = ()
    unevaluable: frozenset[str] = frozenset()

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"


@dataclass
class _Tally:
    denies: list[StatementRef] = field(default_factory=list)
    deny_types: list[str] = field(default_factory=list)
    allows: list[StatementRef] = field(default_factory=list)  # identity-based
    resource_allows: list[StatementRef] = field(default_factory=list)  # naming the principal
    root_allows: list[StatementRef] = field(default_factory=list)  # naming only the account
    unevaluable: set[str] = field(default_factory=set)

    def record(self, st: Statement, policy_type: str) -> None:
        if st.effect == "Deny":
            self.denies.append(st.ref)
            self.deny_types.append(policy_type)
        elif policy_type == "identity-based":
            self.allows.append(st.ref)
        else:
            self.resource_allows.append(st.ref)

    def verdict(self, key_policy: bool) -> Decision:
        unevaluable = frozenset(self.unevaluable)
        if self.denies:
            return Decision("explicit-deny", self.deny_types[0], tuple(self.denies), unevaluable)
        if self.resource_allows:
            return Decision("allow", "resource-based", tuple(self.resource_allows), unevaluable)
        if self.allows and (self.root_allows or not key_policy):
            # A KMS key policy must delegate to IAM through the account root; others need not.
            return Decision("allow", "identity-based", tuple(self.allows), unevaluable)
        why = "resource-based" if key_policy and not self.root_allows else "identity-based"
        return Decision("implicit-deny", why, (), unevaluable)


def variable_lookup(context: Context) -> Callable[[str], str | None]:
    """Policy variables read the request context: ``${aws:userid}`` is its first value."""

    def lookup(name: str) -> str | None:
        values = context.get(name.lower())
        return values[0] if values else None

    return lookup


def _applies(
    statement: Statement,
    check: Check,
    context: Context,
    set_keys: frozenset[str],
    tally: _Tally,
) -> bool:
    if not statement.matches_action(check.action):
        return False
    variables = variable_lookup(context)
    if not statement.matches_resource(check.resource, variables):
        return False
    result = check_conditions(statement.conditions, context, variables, set_keys=set_keys)
    tally.unevaluable |= result.unevaluable
    return result.holds


def decide(
    check: Check,
    principal: Principal,
    identity: Sequence[Policy],
    resource: Policy | None = None,
    *,
    context: Context,
    set_keys: frozenset[str] = frozenset(),
    key_policy: bool = False,
) -> Decision:
    """Evaluate ``check`` for ``principal`` against its identity policies and the resource's policy.

    ``context`` holds every condition key of the request (lower-cased names), which are also
    the values of policy variables (``${aws:userid}``). ``set_keys``: the keys the endpoint
    sets when they apply (an absent key outside them makes the decision "unevaluable").
    ``key_policy``: ``resource`` is a KMS key policy, which must allow on its own or
    delegate to IAM through the account root.
    """
    if check.context:
        context = {**context, **{k.lower(): v for k, v in check.context.items()}}
    tally = _Tally()
    for policy in identity:
        for st in policy.statements:
            if _applies(st, check, context, set_keys, tally):
                tally.record(st, "identity-based")
    if resource is not None:
        for st in resource.statements:
            _resource_statement(st, principal, check, tally, context=context, set_keys=set_keys)
    return tally.verdict(key_policy)


def _resource_statement(
    st: Statement,
    principal: Principal,
    check: Check,
    tally: _Tally,
    *,
    context: Context,
    set_keys: frozenset[str],
) -> None:
    if st.principals is None:
        return
    names = principal.named_by(st.principals)
    root = principal.account_named_by(st.principals)
    if st.not_principal:
        names, root = not (names or root), False
    if not (names or root) or not _applies(st, check, context, set_keys, tally):
        return
    if st.effect == "Deny" or names:
        tally.record(st, "resource-based")
    else:
        tally.root_allows.append(st.ref)
