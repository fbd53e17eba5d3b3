"""``LambdaRuntime``: run a function's handler in a real process, like AWS Lambda does."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from lambda_harness.endpoint.runtime import boot, filesystem
from lambda_harness.endpoint.runtime.coverage import (
    CoverageFolders,
    CoverageSpec,
    lines_to_coverage_data,
    write_worker_files,
)
from lambda_harness.endpoint.runtime.env import Paths, View, reserved_overrides
from lambda_harness.endpoint.runtime.filesystem import Probe
from lambda_harness.endpoint.runtime.interpreters import InterpreterFinder
from lambda_harness.endpoint.runtime.layout import CodeStore, RuntimeFolders, host_machine, ric_version
from lambda_harness.endpoint.runtime.logs import RuntimeVersion
from lambda_harness.endpoint.runtime.model import (
    INIT_LIMIT_S,
    CredentialSource,
    FunctionConfig,
    InvokeResult,
    fingerprint,
)
from lambda_harness.endpoint.runtime.pool import Pool
from lambda_harness.endpoint.runtime.worker import Worker, WorkerSpec
from lambda_harness.settings import Settings
from lambda_harness.ui import UI

logger = logging.getLogger(__name__)

_SPEC_CACHE = 128


def make_runtime(settings: Settings, ui: UI | None = None, *, probe: Probe | None = None) -> LambdaRuntime:
    """The Lambda runtime the endpoint runs functions on: the one way to build it from settings.

    Runtime folders go to the machine's cache (``settings.cache_dir``), extracted code to
    ``.harness/runtime``; concurrency and interpreter fallback come from the settings, and
    the filesystem functions see (``filesystem.choose``: probed once; when ``auto`` falls
    back to host paths, the reason is printed once through ``ui``; tests pass ``probe``).
    """
    view, note = filesystem.choose(settings.filesystem, check=probe)
    if note is not None:
        if ui is not None:
            ui.warn(note)
        else:
            logger.warning("%s", note)
    return LambdaRuntime(
        cache_dir=settings.cache_dir,
        work_dir=settings.paths.runtime,
        max_concurrency=settings.max_concurrency,
        allow_runtime_fallback=settings.allow_runtime_fallback,
        ui=ui,
        filesystem=view,
    )


class LambdaRuntime:
    """Execution environments for every function: cold starts, warm reuse, errors as AWS shows them.

    ``invoke`` is thread-safe and blocks until the invocation ends. It raises
    ``EndpointError`` only for harness faults (no interpreter, bad zip, hash mismatch)
    and ``ThrottledError`` when no environment may take the call; a handler's
    failure is an ``InvokeResult`` with ``function_error`` set.

    Beyond the agreed arguments: ``interpreters`` (where to look for CPythons), ``clock``
    (idle reclaim), ``throttle_wait_s`` (how long a call waits for a free slot under
    ``max_concurrency``) and ``init_limit_s`` (Lambda's 10 s init phase) exist for tests.
    ``filesystem`` is the layout workers get (``"aws"``: a mount namespace each; ``make_runtime``
    decides it from the settings).
    """

    def __init__(
        self,
        *,
        cache_dir: Path,
        work_dir: Path,
        max_concurrency: int = 50,
        allow_runtime_fallback: bool = False,
        idle_timeout_s: float = 300.0,
        ui: UI | None = None,
        interpreters: InterpreterFinder | None = None,
        clock: Callable[[], float] = time.monotonic,
        throttle_wait_s: float = 60.0,
        init_limit_s: float = INIT_LIMIT_S,
        filesystem: View = "host",
    ) -> None:
        self.allow_runtime_fallback = allow_runtime_fallback
        self.filesystem = filesystem
        self.init_limit_s = init_limit_s
        self.ui = ui
        self.interpreters = interpreters or InterpreterFinder.from_environ(os.environ)
        self.runtimes = RuntimeFolders(cache_dir)
        self.code = CodeStore(work_dir)
        self.pool = Pool(
            max_concurrency=max_concurrency,
            idle_timeout_s=idle_timeout_s,
            clock=clock,
            throttle_wait_s=throttle_wait_s,
        )
        self._specs: OrderedDict[str, WorkerSpec] = OrderedDict()
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._coverage: tuple[CoverageSpec, Path] | None = None  # (spec, the workers' spec file)
        self._coverage_folders: CoverageFolders | None = None
        #: Bumped by ``retire_all``: part of every fingerprint, so no environment started before is reused.
        self._generation = 0
        self.credentials: CredentialSource | None = None

    def use_credentials(self, source: CredentialSource | None) -> None:
        """Where new execution environments get their credentials (the endpoint's role sessions);
        None: test credentials tagged with the role, nothing enforced."""
        self.credentials = source

    def prepare(self, fn: FunctionConfig) -> None:
        """Check the interpreter, install the runtime folder and extract code and layers now."""
        self._spec(fn)

    def prestart(self, fn: FunctionConfig, *, wait_s: float = 0.0) -> bool:
        """Start ``fn``'s first execution environment now; with ``wait_s``, wait for its init.

        It joins the idle pool while it initialises; the first invocation takes it (and still
        reports its Init Duration, as the first invocation of a fresh environment does). Skipped
        (False) when the function already has one, or no slot is free under max-concurrency:
        prestarting must never evict another function's environment or wait for a slot.
        """
        spec = self._spec(fn)
        key = (fn.name, fn.version)
        if not self.pool.has_room_for(key, spec.fingerprint):
            return False
        self._start_reaper()
        credentials = self.credentials  # started ahead, still as its role (the same as on first use)
        env, cold = self.pool.lease(
            key, spec.fingerprint, fn.reserved_concurrency, lambda: Worker(spec, credentials)
        )
        self.pool.release(key, env, True)
        if cold and wait_s > 0 and isinstance(env, Worker):
            env.wait_initialised(wait_s)
        return cold

    def invoke(
        self,
        fn: FunctionConfig,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        invoked_arn: str | None = None,
    ) -> InvokeResult:
        """Run one synchronous invocation of ``fn`` with ``payload`` (the event's JSON bytes).

        ``invoked_arn`` is the ARN the caller used (an alias, ``:$LATEST``): what the handler
        sees as ``context.invoked_function_arn``; default ``fn.arn``. It is per invocation,
        so calls through an alias and through its version share warm environments.
        """
        spec = self._spec(fn)
        self._start_reaper()
        key = (fn.name, fn.version)
        credentials = self.credentials
        env, _cold = self.pool.lease(
            key, spec.fingerprint, fn.reserved_concurrency, lambda: Worker(spec, credentials)
        )
        assert isinstance(env, Worker)
        reusable = False
        try:
            result = env.invoke(
                request_id or str(uuid.uuid4()),
                payload,
                client_context=client_context,
                cognito_identity=cognito_identity,
                invoked_arn=invoked_arn,
            )
            reusable = env.alive
            return result
        finally:
            self.pool.release(key, env, reusable)

    # -- coverage ------------------------------------------------------------------------

    @property
    def code_root(self) -> Path:
        """Where deployment packages are extracted (``<work_dir>/code/<sha256>/``)."""
        return self.code.work_dir / "code"

    def start_coverage(self, spec: CoverageSpec) -> Path:
        """Measure ``spec`` in every environment started from now on; returns the code root.

        Environments already running are retired when their function is next invoked
        (coverage is part of an environment's fingerprint).
        """
        if self._coverage_folders is None:
            self._coverage_folders = CoverageFolders(
                self.runtimes.root.parent, pip_python=Path(sys.executable)
            )
        boot = write_worker_files(spec, self.code_root)
        with self._lock:
            self._coverage = (spec, boot)
        return self.code_root

    def stop_coverage(self, timeout_s: float = 30.0) -> dict[str, object]:
        """Stop measuring: wait (bounded) until every measuring environment has saved its data,
        then close the idle ones; the data folder then holds coverage.py data files only.
        Returns ``{"saved": n, "unsaved": [function names]}``."""
        with self._lock:
            current, self._coverage = self._coverage, None
        deadline = time.monotonic() + timeout_s
        saved, unsaved = 0, []
        for env in self.pool.environments():
            if not isinstance(env, Worker) or not env.measures_coverage:
                continue
            if env.wait_parked(max(deadline - time.monotonic(), 0.0)):
                saved += 1
            else:
                unsaved.append(env.spec.fn.name)
        self.pool.retire_idle(lambda env: isinstance(env, Worker) and env.measures_coverage)
        if current is not None:
            lines_to_coverage_data(current[0].data_dir)
        return {"saved": saved, "unsaved": sorted(unsaved)}

    def retire_all(self) -> int:
        """Every function's next invocation starts a new execution environment; how many idle
        ones were closed now.

        For a deployment changed under running environments (an incremental Terraform apply: a
        role's policies, an environment variable, a layer): what a handler did at init or cached
        on first use (an SSM read, a boto3 call at import) is done again under the new
        configuration, as on a fresh endpoint. Busy environments finish their invocation and are
        closed when next leased (the generation is part of the fingerprint).
        """
        with self._lock:
            self._generation += 1
        return self.pool.retire_idle(lambda env: True)

    def reap_idle(self) -> int:
        """Reclaim environments idle past ``idle_timeout_s`` (also done by a background thread)."""
        return self.pool.reap_idle()

    def shutdown(self) -> None:
        """Stop every worker process; idempotent."""
        self._stop.set()
        self.pool.shutdown()

    # -- internals ---------------------------------------------------------------------

    def _spec(self, fn: FunctionConfig) -> WorkerSpec:
        digests = self.code.layer_digests(fn.layers)
        coverage = self._coverage
        fp = fingerprint(fn, digests) + (f"-cov{coverage[0].token}" if coverage else "")
        if self._generation:
            fp += f"-g{self._generation}"
        with self._lock:
            spec = self._specs.get(fp)
            if spec is not None:
                # Same configuration and CodeSha256: the code was verified when the spec was built.
                self._specs.move_to_end(fp)
                return spec
        spec = self._build_spec(fn, fp, coverage)
        with self._lock:
            self._specs[fp] = spec
            while len(self._specs) > _SPEC_CACHE:
                self._specs.popitem(last=False)
        return spec

    def _build_spec(
        self, fn: FunctionConfig, fp: str, coverage: tuple[CoverageSpec, Path] | None
    ) -> WorkerSpec:
        interpreter, fallback = self.interpreters.resolve(fn.name, fn.runtime, self.allow_runtime_fallback)
        notes = []
        if fallback:
            notes.append(f"WARNING lambda-harness: {fallback}")
        machine = host_machine()
        if fn.architecture == "arm64" and machine != "aarch64":
            notes.append(
                f"WARNING lambda-harness: function {fn.name} is arm64 but runs natively on {machine}: "
                "pure-Python code behaves the same; native extensions built for aarch64 fail to import here "
                "(lambda-harness docs/reference/fidelity.md#architecture-arm64-functions-on-an-x86_64-host)"
            )
        bad = reserved_overrides(fn.environment)
        if bad:
            notes.append(
                f"WARNING lambda-harness: reserved variables ignored (AWS rejects them): {', '.join(bad)}"
            )
        for note in notes:
            self._warn_once(note)
        coverage_dir = None
        if coverage is not None and self._coverage_folders is not None:
            coverage_dir = self._coverage_folders.ensure(interpreter, machine)
        paths = Paths(
            task_root=self.code.task_root(fn),
            opt_dir=self.code.opt_dir(fn),
            runtime_dir=boot.install(self.runtimes.ensure(interpreter, machine)).parent,
            interpreter=interpreter.path,
            python_version=interpreter.version,
            # A measuring environment sees host paths: the data it writes must reach the harness
            # (AWS's layout puts a private /tmp and an overlay on /var over the project's folders).
            view="host" if coverage_dir is not None else self.filesystem,
            coverage_dir=coverage_dir,
            coverage_spec=coverage[1] if coverage_dir is not None and coverage is not None else None,
        )
        return WorkerSpec(
            fn=fn,
            paths=paths,
            fingerprint=fp,
            notes=tuple(notes),
            init_limit_s=self.init_limit_s,
            runtime_version=RuntimeVersion.of(
                (*interpreter.version, interpreter.micro), ric_version(interpreter)
            ),
        )

    def _warn_once(self, note: str) -> None:
        with self._lock:
            if note in self._warned:
                return
            self._warned.add(note)
        message = note.removeprefix("WARNING lambda-harness: ")
        if self.ui is not None:
            self.ui.warn(message)
        else:
            logger.warning("%s", message)

    def _start_reaper(self) -> None:
        if self._reaper is not None:
            return
        with self._lock:
            if self._reaper is not None:
                return
            interval = min(max(self.pool.idle_timeout_s / 4, 0.05), 30.0)

            def loop() -> None:
                while not self._stop.wait(interval):
                    self.pool.reap_idle()

            self._reaper = threading.Thread(target=loop, name="lambda-runtime-reaper", daemon=True)
            self._reaper.start()
