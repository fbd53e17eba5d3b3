"""The floor under every Lambda invoke: awslambdaric behind our Runtime API, no AWS endpoint.

Measures, through ``LambdaRuntime.invoke`` (Runtime API server + awslambdaric worker):
cold start (spawn -> response) and warm p50/p95 for a noop handler and for a handler
that imports boto3 at module level. ``bench/invoke.py`` imports ``measure_floor`` to
compare the full endpoint path against this floor.

    .venv/bin/python bench/invoke_floor.py [--warm 500] [--cold 5]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import statistics
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from lambda_harness.endpoint.runtime import FunctionConfig, LambdaRuntime, make_runtime
from lambda_harness.settings import default_cache_dir, load_settings

HANDLERS = {
    "noop": "def handler(event, context):\n    return event\n",
    "boto3": "import boto3\nclient = boto3.client('s3')\n\ndef handler(event, context):\n    return event\n",
}


def _function(source: str, runtime: str) -> FunctionConfig:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    code = buf.getvalue()
    return FunctionConfig(
        name="bench_floor",
        version="$LATEST",
        handler="app.handler",
        runtime=runtime,
        architecture="x86_64",
        memory_mb=512,
        timeout_s=30.0,
        environment={},
        code_sha256=base64.b64encode(hashlib.sha256(code).digest()).decode(),
        code_zip=code,
        layers=(),
        region="us-east-1",
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/bench",
        reserved_concurrency=None,
        endpoint_url="http://127.0.0.1:9",
    )


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _measure_one(rt: LambdaRuntime, fn: FunctionConfig, warm: int, cold: int) -> dict[str, float]:
    payload = json.dumps({"ping": 1}).encode()
    colds, inits = [], []
    for i in range(cold):
        variant = replace(fn, environment={"BENCH_NONCE": str(i)})  # a new config forces a cold start
        rt.prepare(variant)
        start = time.perf_counter()
        result = rt.invoke(variant, payload)
        colds.append((time.perf_counter() - start) * 1000)
        inits.append(result.init_ms or 0.0)
        assert result.cold and result.function_error is None, result.payload
    rt.invoke(fn, payload)
    for _ in range(20):  # settle: first warm calls pay lazy imports in the worker
        rt.invoke(fn, payload)
    warms = []
    for _ in range(warm):
        start = time.perf_counter()
        rt.invoke(fn, payload)
        warms.append((time.perf_counter() - start) * 1000)
    return {
        "cold_ms": statistics.median(colds),
        "init_ms": statistics.median(inits),
        "warm_p50_ms": _percentile(warms, 50),
        "warm_p95_ms": _percentile(warms, 95),
        "warm_mean_ms": statistics.fmean(warms),
    }


def measure_namespace_cost(
    *, cold: int = 20, runtime: str = "python3.12", cache_dir: Path | None = None
) -> dict[str, Any]:
    """What the mount namespace (filesystem=aws) adds to a cold start, measured interleaved.

    Two runtimes over the same cache, one per layout; cold starts of the noop handler
    alternate between them so load drift on a shared machine hits both alike. Returns the
    medians of Init Duration (spawn -> the runtime's first GET /next) and of the whole
    cold invoke, per layout, and ``n``.
    """
    cache = cache_dir or default_cache_dir(os.environ)
    samples: dict[str, dict[str, list[float]]] = {v: {"init": [], "cold": []} for v in ("host", "aws")}
    payload = json.dumps({"ping": 1}).encode()
    with tempfile.TemporaryDirectory(prefix="invoke-ns-") as work:
        runtimes = {
            view: LambdaRuntime(cache_dir=cache, work_dir=Path(work) / view, filesystem=view)
            for view in ("host", "aws")
        }
        try:
            fn = _function(HANDLERS["noop"], runtime)
            for i in range(cold + 1):
                for view, rt in runtimes.items():
                    variant = replace(fn, environment={"BENCH_NONCE": str(i)})
                    rt.prepare(variant)
                    start = time.perf_counter()
                    result = rt.invoke(variant, payload)
                    elapsed = (time.perf_counter() - start) * 1000
                    assert result.cold and result.function_error is None, result.payload
                    if i:  # the first round warms the page cache for both
                        samples[view]["init"].append(result.init_ms or 0.0)
                        samples[view]["cold"].append(elapsed)
        finally:
            for rt in runtimes.values():
                rt.shutdown()
    medians = {v: {k: statistics.median(xs) for k, xs in d.items()} for v, d in samples.items()}
    return {"n": cold, **medians}


def measure_floor(
    *,
    warm: int = 300,
    cold: int = 5,
    runtime: str = "python3.12",
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Cold start and warm latency (ms) of noop and boto3 handlers through ``LambdaRuntime`` alone.

    Returns ``{"noop": {...}, "boto3": {...}, "runtime": ..., "warm": n, "cold": n}``, each case with
    ``cold_ms`` (median spawn->response), ``init_ms`` (median Init Duration), ``warm_p50_ms``,
    ``warm_p95_ms`` and ``warm_mean_ms``.
    """
    cache = cache_dir or default_cache_dir(os.environ)
    out: dict[str, Any] = {"runtime": runtime, "warm": warm, "cold": cold}
    with tempfile.TemporaryDirectory(prefix="invoke-floor-") as work:
        # Host paths, like the endpoint's first row (bench/invoke.py measures filesystem=aws apart).
        rt = make_runtime(load_settings(Path(work), {"cache_dir": cache, "filesystem": "host"}))
        try:
            for name, source in HANDLERS.items():
                out[name] = _measure_one(rt, _function(source, runtime), warm, cold)
        finally:
            rt.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--runtime", default="python3.12")
    args = parser.parse_args()
    figures = measure_floor(warm=args.warm, cold=args.cold, runtime=args.runtime)
    print(f"invoke floor ({figures['runtime']}, {args.cold} cold starts, {args.warm} warm invokes)")
    print(f"{'handler':8} {'cold ms':>9} {'init ms':>9} {'warm p50':>9} {'warm p95':>9} {'mean':>7}")
    for name in HANDLERS:
        f = figures[name]
        print(
            f"{name:8} {f['cold_ms']:9.1f} {f['init_ms']:9.1f} {f['warm_p50_ms']:9.3f} "
            f"{f['warm_p95_ms']:9.3f} {f['warm_mean_ms']:7.3f}"
        )


if __name__ == "__main__":
    main()
