"""Loopback: what counts as loopback, HTTP probes, and the one wait loop.

``is_loopback`` is the one place that decides whether a host stays on this
machine (127.0.0.0/8, ``::1``, ``localhost``); ``require_loopback`` refuses any
other host unless the user opted in on the command line or in the environment
(never from a file in the repo, which a pull request can change).

Every health check the harness makes goes through ``probe``: it never uses a
proxy from the environment (loopback traffic must not leave the machine, and a
proxy would answer for an endpoint that is not there). Every wait for something
to become ready goes through ``wait_until``, with an injectable clock and
sleep so tests need no real waiting.
"""

from __future__ import annotations

import getpass
import http.client
import ipaddress
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lambda_harness.errors import ConfigError, HarnessError

#: The names and addresses that always mean "this machine" (``[::1]`` is how Python's urllib
#: compares an IPv6 host against NO_PROXY).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
#: The two ways to opt in to a non-loopback host (never a file in the repo).
ALLOW_FLAG = "--allow-non-loopback"
ALLOW_ENV = "LAMBDA_HARNESS_ALLOW_NON_LOOPBACK"


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (``[::1]`` too); False for anything else."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def no_proxy_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``NO_PROXY`` and ``no_proxy`` for a child: the user's entries (from either spelling), then
    the loopback names, so every HTTP client the child has reaches loopback directly. Nothing else
    about the user's proxy changes."""
    entries: list[str] = []
    for name in ("NO_PROXY", "no_proxy"):
        for entry in (environ.get(name) or "").split(","):
            if entry.strip() and entry.strip() not in entries:
                entries.append(entry.strip())
    entries += [name for name in LOOPBACK_NAMES if name not in entries]
    value = ",".join(entries)
    return {"NO_PROXY": value, "no_proxy": value}


def url_host(url: str) -> str:
    """The host of ``http://host:port/...`` (empty when there is none)."""
    return urlsplit(url).hostname or ""


def require_loopback(host: str, *, source: str, allowed: bool, opt_in: str = "") -> None:
    """Refuse ``host`` unless it is loopback or the user opted in (ConfigError naming ``source``).

    Called before anything listens on, or sends a byte to, ``host``. ``opt_in`` names
    the opt-in of the caller's interface (default: the CLI flag and the variable).
    """
    if allowed or is_loopback(host):
        return
    how = opt_in or f"{ALLOW_FLAG} on the command line or {ALLOW_ENV}=1 in the environment"
    raise ConfigError(
        f"{source}: host {host!r} is not a loopback address (127.0.0.0/8, ::1, localhost). The endpoint "
        "has no authentication: whoever reaches it can deploy a Lambda function that runs code as "
        f"{_user()} on this machine, and the harness's requests (event payloads, Terraform's calls) "
        f"would leave the machine. Use 127.0.0.1; or, if you really mean it, opt in with {how} "
        "(pyproject.toml cannot opt in: a pull request can change it)."
    )


def exposure_warning(address: str, source: str) -> str:
    """The loud warning shown when the user opted in to a non-loopback ``address`` (host:port)."""
    return (
        f"NOT LOOPBACK: {address} (host from {source}, opted in). An endpoint the harness starts "
        f"listens there with no authentication: anyone who can reach {address} can create and "
        f"invoke Lambda functions, and each one runs code as {_user()} on this machine, with its files "
        "and network; they can also read and change every resource in the endpoint. Requests the harness "
        "sends there (event payloads, Terraform's calls) travel unencrypted. Use it only on a network "
        "you trust, and stop the endpoint when done."
    )


def _user() -> str:
    try:
        return f"user {getpass.getuser()!r}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "the harness's user"


HARNESS_HEALTH = "/_harness/health"
#: The embedded endpoint's IAM ledger (JSON): denials, least privilege, trust refusals (``/trust``).
HARNESS_IAM = "/_harness/iam"
LOCALSTACK_HEALTH = "/_localstack/health"
LOCALSTACK_INFO = "/_localstack/info"
#: The embedded endpoint starts the named functions' first execution environments (POST, JSON).
HARNESS_PRESTART = "/_harness/prestart"
#: The embedded endpoint retires every execution environment (POST, loopback callers only): each
#: function's next invocation is a cold start (after a Terraform change on a kept endpoint).
HARNESS_RETIRE = "/_harness/retire"

# No ProxyHandler entries: HTTP(S)_PROXY never applies to these requests.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def open_url(request: urllib.request.Request | str, timeout: float) -> Any:
    """``urlopen`` without any proxy (the response is a context manager)."""
    return _OPENER.open(request, timeout=timeout)


def exchange(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request sent as given, never through a proxy: ``(status, headers, body)``.

    Only ``Host`` (unless given) and ``Content-Length`` (with a body) are added: none of
    urllib's ``Connection: close``, ``Accept-Encoding: identity``, ``User-Agent: Python-urllib``
    or form-encoded ``Content-Type``, which would reach an API's event as if a client had sent
    them. Raises OSError (``http.client`` errors included) when nothing answers.
    """
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    names = {name.lower() for name in headers}
    try:
        conn.putrequest(method, target, skip_host="host" in names, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body is not None and "content-length" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return int(resp.status), list(resp.getheaders()), resp.read()
    except http.client.HTTPException as exc:
        raise OSError(f"{method} {url}: {exc!r}") from exc
    finally:
        conn.close()


def probe(url: str, timeout: float = 1.0) -> tuple[int, bytes] | str:
    """``GET url``: ``(status, body)``, or a short text saying why nothing answered."""
    try:
        with open_url(url, timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read() if exc.fp else b""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))


def get_json(url: str, timeout: float = 5.0) -> Any:
    """``GET url`` as JSON, or None when nothing (or no JSON) answers with 200 (LocalStack, a fake)."""
    return json_of(probe(url, timeout))


def json_of(answer: tuple[int, bytes] | str) -> Any:
    """The JSON body of a 200 answer (``probe``, ``post_json``), else None."""
    if isinstance(answer, str) or answer[0] != 200:
        return None
    try:
        return json.loads(answer[1])
    except ValueError:
        return None


def post_json(url: str, document: object, timeout: float = 5.0) -> tuple[int, bytes] | str:
    """``POST url`` with a JSON body: ``(status, body)``, or a short text saying why nothing answered."""
    body = json.dumps(document).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http to loopback)
    try:
        with open_url(request, timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read() if exc.fp else b""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))


def harness_health(url: str, timeout: float = 1.0) -> str | None:
    """None when the embedded endpoint at ``url`` answers its health path with 200, else the problem."""
    answer = probe(url.rstrip("/") + HARNESS_HEALTH, timeout)
    if isinstance(answer, str):
        return answer
    return None if answer[0] == 200 else f"HTTP {answer[0]}"


def localstack_health(url: str, timeout: float = 1.0) -> str | None:
    """None when ``url`` answers ``/_localstack/health`` with 200 and LocalStack's JSON, else the problem."""
    answer = probe(url.rstrip("/") + LOCALSTACK_HEALTH, timeout)
    if isinstance(answer, str):
        return answer
    status, body = answer
    if status != 200:
        return f"HTTP {status}"
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return "not LocalStack's health document"
    if isinstance(doc, dict) and isinstance(doc.get("services"), dict):
        return None
    return "not LocalStack's health document"


def endpoint_identity(url: str, timeout: float = 1.0) -> str | None:
    """Which endpoint *instance* answers at ``url``: a restarted endpoint is a new one.

    The embedded endpoint names itself (``instance_id`` in ``/_harness/health``, a uuid
    made when it starts); LocalStack has ``session_id`` in ``/_localstack/info`` (one per
    start). None when neither says: then nothing can be assumed about what it holds.
    """
    base = url.rstrip("/")
    for path, key in ((HARNESS_HEALTH, "instance_id"), (LOCALSTACK_INFO, "session_id")):
        answer = probe(base + path, timeout)
        if isinstance(answer, str) or answer[0] != 200:
            continue
        try:
            doc = json.loads(answer[1] or b"null")
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get(key), str) and doc[key]:
            return f"{key}:{doc[key]}"
    return None


def endpoint_healthy(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` is an AWS endpoint the harness can use (ours or LocalStack)."""
    return harness_health(url, timeout) is None or localstack_health(url, timeout) is None


class WaitTimeout(HarnessError):
    """``wait_until`` ran out of time (callers usually raise their own error with more context)."""


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    *,
    what: str,
    interval: float = 0.1,
    on_timeout: Callable[[], HarnessError] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return as soon as ``check()`` is true; after ``timeout`` seconds raise ``on_timeout()``
    (default: ``WaitTimeout`` naming ``what``). ``check`` may raise to stop waiting early."""
    deadline = clock() + timeout
    while not check():
        if clock() >= deadline:
            if on_timeout is not None:
                raise on_timeout()
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what}")
        sleep(interval)
