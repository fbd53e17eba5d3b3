"""Invoke latency through the whole endpoint, next to its floor and to MiniStack.

One run prints cold start and warm p50/p95 for a noop handler and a handler that
imports boto3, measured the way tests call functions: boto3 -> our endpoint
(moto + hooks, in this process) -> runtime worker (awslambdaric). Beside it:

* the floor: the same handlers through ``LambdaRuntime`` alone (``bench/invoke_floor.py``);
* the endpoint again with ``filesystem=aws`` (each worker in a mount namespace laid out as
  AWS's), when the kernel allows it, and the namespace's cold-start cost, measured apart
  with interleaved cold starts (``measure_namespace_cost``: load drift hits both layouts);
* MiniStack (``pip install ministack`` into a venv under /tmp, started on a free
  loopback port, same functions, same boto3 client), stopped by PID at the end.

    .venv/bin/python bench/invoke.py [--warm 300] [--cold 5] [--no-ministack]

Loops are bounded and everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from invoke_floor import HANDLERS, measure_floor, measure_namespace_cost

from lambda_harness import proc
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.runtime import filesystem, make_runtime
from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.settings import Settings, default_cache_dir
from lambda_harness.ui import PlainUI

MINISTACK_VENV = Path(tempfile.gettempdir()) / "lh-bench-ministack"
Figures = dict[str, float]


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _client(service: str, url: str) -> Any:
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    config = Config(retries={"max_attempts": 1}, read_timeout=120)
    return session.client(service, endpoint_url=url, config=config)  # type: ignore[call-overload]


def measure_endpoint(url: str, *, warm: int, cold: int) -> dict[str, Figures]:
    """Cold (create + first invoke of a fresh function) and warm latency through boto3 -> url."""
    iam, lam = _client("iam", url), _client("lambda", url)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
    role = iam.create_role(
        RoleName=f"bench-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    out: dict[str, Figures] = {}
    for name, source in HANDLERS.items():
        try:
            out[name] = _measure_handler(lam, role, name, _zip(source), warm=warm, cold=cold)
        except RuntimeError as exc:
            print(f"  ({url}: {name} handler failed: {str(exc)[:200]})")
    return out


def _measure_handler(lam: Any, role: str, name: str, code: bytes, *, warm: int, cold: int) -> Figures:
    def create(suffix: str) -> str:
        fn = f"bench-{name}-{suffix}"
        lam.create_function(
            FunctionName=fn,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code},
            MemorySize=512,
            Timeout=30,
        )
        _wait_active(lam, fn)
        return fn

    colds = []
    for i in range(cold):
        fresh = create(f"cold{i}")
        colds.append(_timed(lambda fresh=fresh: _invoke(lam, fresh)))  # type: ignore[misc]
    warm_fn = create("warm")
    for _ in range(20):  # settle, as the floor does
        _invoke(lam, warm_fn)
    warms = [_timed(lambda: _invoke(lam, warm_fn)) for _ in range(warm)]
    return {
        "cold_ms": statistics.median(colds),
        "warm_p50_ms": _percentile(warms, 50),
        "warm_p95_ms": _percentile(warms, 95),
    }


def _wait_active(lam: Any, fn: str) -> None:
    for _ in range(300):  # MiniStack creates functions asynchronously; moto is Active at once
        if lam.get_function(FunctionName=fn)["Configuration"].get("State", "Active") == "Active":
            return
        time.sleep(0.1)


def _invoke(lam: Any, fn: str) -> None:
    resp = lam.invoke(FunctionName=fn, Payload=b'{"ping": 1}')
    body = resp["Payload"].read()
    if resp.get("FunctionError"):
        raise RuntimeError(f"{fn}: {body.decode(errors='replace')}")


def _timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def ours(warm: int, cold: int, filesystem: str = "host") -> dict[str, Figures]:
    """Through our endpoint; ``filesystem="aws"``: every worker in its own mount namespace."""
    with tempfile.TemporaryDirectory(prefix="bench-invoke-") as tmp:
        project = Path(tmp)
        settings = Settings(
            project_dir=project,
            functions_dir=project / "functions",
            terraform_dir=project / "terraform",
            lock_file=None,
            dist=None,
            harness_dir=project / ".harness",
            cache_dir=default_cache_dir(os.environ),
            cases_dir=project / "events",
            port=0,
            filesystem=filesystem,
        )
        runtime = make_runtime(settings)
        try:
            with EmbeddedEndpoint(settings, runtime, PlainUI(quiet=True)) as endpoint:
                return measure_endpoint(endpoint.url, warm=warm, cold=cold)
        finally:
            runtime.shutdown()


_CANNED_BODY = b'{"ping": 1}'
_CANNED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Amz-Executed-Version: $LATEST\r\n"
    b"x-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\nContent-Length: %d\r\n\r\n%s"
) % (len(_CANNED_BODY), _CANNED_BODY)


def _serve_canned(conn: socket.socket) -> None:
    """Answer every request on ``conn`` with the same Invoke response (keep-alive; lengths only)."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    with conn:
        while chunk := conn.recv(65536):
            buf += chunk
            while b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if len(rest) < length:
                    break
                buf = rest[length:]
                conn.sendall(_CANNED)


def client_floor(warm: int) -> float:
    """Warm p50 (ms) of boto3's Invoke against a loopback socket that answers at once: what the
    client itself costs, which no endpoint can take away (the runtime floor does not include it)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve_canned, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        lam = _client("lambda", f"http://127.0.0.1:{listener.getsockname()[1]}")
        for _ in range(20):
            _invoke(lam, "f")
        return _percentile([_timed(lambda: _invoke(lam, "f")) for _ in range(warm)], 50)
    finally:
        stop.set()
        listener.close()


def ministack(warm: int, cold: int) -> dict[str, Figures] | str:
    """The same measurement against MiniStack, or why it could not run."""
    exe = MINISTACK_VENV / "bin" / "ministack"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MINISTACK_VENV)], check=True)
        # boto3 too (one resolve, so it matches ministack's botocore pin): handlers run under its interpreter.
        done = subprocess.run(
            [str(MINISTACK_VENV / "bin" / "pip"), "install", "-q", "ministack", "boto3"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not exe.exists():
            return f"pip install ministack failed: {done.stderr.strip()[-300:]}"
    port = free_port()
    env = {**os.environ, "GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1"}
    with tempfile.TemporaryFile() as log:
        child = proc.spawn([str(exe)], env=env, stdout=log.fileno(), stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            if not _wait_up(url, child):
                log.seek(0)
                return f"MiniStack did not start: {log.read().decode(errors='replace')[-300:]}"
            return measure_endpoint(url, warm=warm, cold=cold)
        finally:
            proc.stop(child)


def _wait_up(url: str, child: subprocess.Popen[bytes]) -> bool:
    sts = _client("sts", url)
    for _ in range(300):
        if child.poll() is not None:
            return False
        try:
            sts.get_caller_identity()
            return True
        except Exception:
            time.sleep(0.1)
    return False


def _row(label: str, f: Figures) -> str:
    return f"  {label:28} {f['cold_ms']:9.1f} {f['warm_p50_ms']:9.2f} {f['warm_p95_ms']:9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--no-ministack", action="store_true")
    parser.add_argument("--namespace-cold", type=int, default=20, help="interleaved cold starts per layout")
    args = parser.parse_args()
    start_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    floor = measure_floor(warm=args.warm, cold=args.cold)
    client = client_floor(args.warm)
    mine = ours(args.warm, args.cold)
    why_not = filesystem.probe()
    sandboxed = ours(args.warm, args.cold, "aws") if why_not is None else None
    cost = measure_namespace_cost(cold=args.namespace_cold) if why_not is None else None
    peer = "skipped (--no-ministack)" if args.no_ministack else ministack(args.warm, args.cold)
    print(
        f"invoke latency, ms ({args.cold} cold starts, {args.warm} warm invokes, python3.12, "
        f"{os.cpu_count()} cpus, load average at the start {start_load})"
    )
    print(f"  {'':28} {'cold':>9} {'warm p50':>9} {'warm p95':>9}")
    for name in HANDLERS:
        print(f"{name} handler")
        print(_row("floor (runtime alone)", floor[name]))
        print(_row("lambda-harness endpoint", mine[name]))
        if sandboxed is not None:
            print(_row("  with filesystem=aws", sandboxed[name]))
        if isinstance(peer, dict) and name in peer:
            print(_row("MiniStack", peer[name]))
        ratio = mine[name]["warm_p50_ms"] / floor[name]["warm_p50_ms"]
        line = f"  warm p50: endpoint = {ratio:.1f}x floor"
        if isinstance(peer, dict) and name in peer:
            line += (
                f"; MiniStack = {peer[name]['warm_p50_ms'] / mine[name]['warm_p50_ms']:.1f}x endpoint"
                f" (cold {peer[name]['cold_ms'] / mine[name]['cold_ms']:.1f}x)"
            )
        print(line)
    print(
        "boto3 Invoke against a socket that answers at once (the client's own cost): "
        f"warm p50 {client:.2f} ms"
    )
    for name in HANDLERS:
        added = mine[name]["warm_p50_ms"] - client
        bound = (client + floor[name]["warm_p50_ms"]) / floor[name]["warm_p50_ms"]
        print(
            f"  {name}: the endpoint adds {added:.2f} ms over boto3 alone "
            f"({floor[name]['warm_p50_ms']:.2f} ms of it the runtime floor); "
            f"(boto3 alone + floor) / floor = {bound:.1f}x: the best ratio any endpoint could show here"
        )
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not isinstance(peer, dict):
        print(f"MiniStack: {peer}")
    if cost is None:
        print(f"filesystem=aws: not available here ({why_not})")
    else:
        host, aws = cost["host"], cost["aws"]
        shifts = [
            f"{label} p50 {host[key]:.1f} -> {aws[key]:.1f} ms ({aws[key] - host[key]:+.1f} ms)"
            for key, label in (("init", "Init Duration"), ("cold", "cold invoke"))
        ]
        print(
            f"mount namespace cold-start cost ({cost['n']} interleaved noop cold starts): "
            + ", ".join(shifts)
        )


if __name__ == "__main__":
    main()
