"""Role sessions for execution environments, minted by moto's STS backend like Lambda's own.

Each environment gets temporary credentials for its function's execution role,
session name = the function's name (what Lambda uses), so ``sts get-caller-identity``
inside the function answers ``arn:aws:sts::<account>:assumed-role/<role>/<function>``
(moto answers that by itself once the session exists in its STS backend). The
``SessionRegistry`` maps each access key to its session: the guard evaluates only
requests signed with a registered key; everything else passes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from lambda_harness.endpoint.iam.evaluate import Principal
from lambda_harness.endpoint.runtime.model import ExecutionEnvironment, FunctionConfig

#: Lambda's sessions last as long as the environment may live; 12 h is STS's maximum.
SESSION_SECONDS = 43200


@dataclass(frozen=True)
class FunctionSession:
    """One environment's role session: who a signed request comes from."""

    function: str
    version: str
    role_arn: str
    account: str
    region: str
    access_key_id: str
    session_token: str
    role_id: str
    environment: ExecutionEnvironment

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def session_arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.function}"

    @property
    def principal(self) -> Principal:
        return Principal(self.account, self.role_arn, self.session_arn, self.role_id)

    @property
    def request_id(self) -> str | None:
        """The invocation the environment runs (or ran last): where a denial is attributed."""
        return self.environment.current_request_id


class SessionRegistry:
    """Access key -> session, for the guard; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, FunctionSession] = {}
        self._by_environment: dict[str, str] = {}

    def add(self, session: FunctionSession) -> None:
        with self._lock:
            self._by_key[session.access_key_id] = session
            self._by_environment[session.environment.environment_id] = session.access_key_id

    def get(self, access_key_id: str) -> FunctionSession | None:
        return self._by_key.get(access_key_id)  # dict reads are atomic: no lock on the hot path

    def forget(self, environment_id: str) -> None:
        with self._lock:
            key = self._by_environment.pop(environment_id, None)
            if key is not None:
                self._by_key.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()
            self._by_environment.clear()


def _role_id(account: str, partition: str, role_arn: str) -> str:
    try:
        return str(iam_backends[account][partition].get_role_by_arn(role_arn).id)
    except Exception:  # the role may be gone (deleted after the function was created)
        return ""


class StsCredentialSource:
    """``CredentialSource`` for the runtime: assume the function's role through moto's STS backend.

    ``on_issue`` is told about every new session (the guard checks the platform's own
    log writes with it).
    """

    def __init__(
        self, registry: SessionRegistry, on_issue: Callable[[FunctionSession], None] | None = None
    ) -> None:
        self.registry = registry
        self.on_issue = on_issue

    def issue(self, fn: FunctionConfig, environment: ExecutionEnvironment) -> Mapping[str, str]:
        """Mint a session for ``fn``'s role and register it under its access key."""
        partition = get_partition(fn.region)
        assumed = sts_backends[fn.account_id][partition].assume_role(
            region_name=fn.region,
            role_session_name=fn.name,
            role_arn=fn.role_arn,
            policy="",  # Lambda passes no session policy
            duration=SESSION_SECONDS,
            external_id="",
        )
        session = FunctionSession(
            function=fn.name,
            version=fn.version,
            role_arn=fn.role_arn,
            account=str(assumed.account_id),
            region=fn.region,
            access_key_id=str(assumed.access_key_id),
            session_token=str(assumed.session_token),
            role_id=_role_id(str(assumed.account_id), partition, fn.role_arn),
            environment=environment,
        )
        self.registry.add(session)
        if self.on_issue is not None:
            self.on_issue(session)
        return {
            "AWS_ACCESS_KEY_ID": session.access_key_id,
            "AWS_SECRET_ACCESS_KEY": str(assumed.secret_access_key),
            "AWS_SESSION_TOKEN": session.session_token,
        }

    def forget(self, environment: ExecutionEnvironment) -> None:
        """The environment closed: its key is no longer a function session."""
        self.registry.forget(environment.environment_id)
