"""``lambda-harness watch``: keep the endpoint up and answer every save with its result.

The wiring of a loop, like ``pipeline`` is the wiring of one run. On start: build, deploy
(the warm loop when the endpoint already holds this repo), start every function's first
environment, run every event case, print the table. Then, for each batch of file changes
(``FileWatch``: watchfiles on the functions folder, the event cases, the Terraform inputs
and the lock file; or any iterable of path sets, which is how tests drive it):

* functions folder: rebuild (incremental), push the changed code (``deploy_for_run``'s warm
  path), rerun the cases of the functions the change reaches (``ImportGraph``: a shared
  module reruns every function that imports it);
* lock file: rebuild, push, rerun every function;
* Terraform inputs: rebuild, apply (incrementally, against the kept state), rerun every function;
* event cases: rerun that function's cases (and the gate).

Cases run in this process (``testing.live``), not through pytest: no interpreter start
between a save and its result. The table always shows every function's latest result,
and each failing case's log excerpt is printed again after every batch until it passes.
An error (a build that fails, Terraform that does not apply) is printed and watching goes
on; Ctrl-C stops the endpoint and every function worker.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.endpoint.session import endpoint_session
from lambda_harness.errors import HarnessError
from lambda_harness.packaging.imports import ImportGraph
from lambda_harness.settings import Settings
from lambda_harness.terraform import warm
from lambda_harness.terraform.deploy import Deployment, deploy_for_run
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.testing.artifacts import BuildRecord
from lambda_harness.testing.cases import EventCase, discover, gate
from lambda_harness.testing.iam import IamLedger, case_denials
from lambda_harness.testing.invoker import Invocation, Invoker
from lambda_harness.testing.live import LiveResults, run_cases
from lambda_harness.testing.results import SUMMARY_COLUMNS
from lambda_harness.ui import UI

#: Terraform's working data and state, editors' and Python's leftovers: never a change to act on.
_IGNORED_DIRS = (".terraform", ".harness", "__pycache__", ".git", ".mypy_cache", ".pytest_cache")
_IGNORED_SUFFIXES = (".tfstate", ".tfstate.backup", ".tfplan", ".pyc", ".swp", ".swx", "~", ".tmp")


@dataclass(frozen=True)
class Batch:
    """One batch of changed files, sorted by what they are."""

    code: tuple[Path, ...] = ()
    lock: bool = False
    terraform: tuple[Path, ...] = ()
    cases: tuple[Path, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.code or self.lock or self.terraform or self.cases)

    def describe(self, project_dir: Path) -> str:
        """``functions/a.py, terraform/main.tf changed``."""
        paths = [*self.terraform, *self.code, *self.cases]
        shown = [_shown(p, project_dir) for p in paths[:4]] + (["the lock file"] if self.lock else [])
        more = f" (+{len(paths) - 4} more)" if len(paths) > 4 else ""
        return f"{', '.join(shown)}{more} changed"


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return str(path)


def _ignored(path: Path) -> bool:
    return bool(set(path.parts) & set(_IGNORED_DIRS)) or path.name.endswith(_IGNORED_SUFFIXES)


def classify(settings: Settings, paths: Iterable[Path], terraform_inputs: Iterable[Path]) -> Batch:
    """Sort changed paths into code, lock file, Terraform inputs and event cases (others: ignored)."""
    inputs = {p.resolve() for p in terraform_inputs}
    code, terraform, cases, lock = [], [], [], False
    for raw in sorted(set(paths)):
        path = raw.absolute()
        if _ignored(path) or path.name.endswith((".zip", ".zip.json")):
            continue
        if settings.lock_file is not None and path == settings.lock_file.absolute():
            lock = True
        elif path.is_relative_to(settings.cases_dir.absolute()):
            cases.append(path)
        elif path.resolve() in inputs or path.is_relative_to(settings.terraform_dir.absolute()):
            terraform.append(path)
        elif path.is_relative_to(settings.functions_dir.absolute()):
            code.append(path)
    return Batch(tuple(code), lock, tuple(terraform), tuple(cases))


# --- the file watcher ------------------------------------------------------------------------


def watched_paths(settings: Settings, terraform_inputs: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(folders watched with everything below them, folders watched for named files only)."""
    folders = (settings.functions_dir, settings.cases_dir, settings.terraform_dir, settings.world_dir)
    deep = [p for p in folders if p is not None and p.is_dir()]
    files = [settings.lock_file] if settings.lock_file is not None else []
    files += [p for p in terraform_inputs if not any(p.is_relative_to(d) for d in deep)]
    flat = sorted({f.parent for f in files if f.parent.is_dir()})
    return deep, flat


def changed_paths(changes: Iterable[tuple[Any, str]]) -> set[Path]:
    """The paths of one watchfiles batch, without a file that came and went within it.

    ``sed -i``, and editors that save through a temporary file, write a new file beside the
    real one and rename it over it: the batch also holds the temporary name, added and then
    deleted, which changed nothing.
    """
    seen: dict[str, set[str]] = {}
    for change, path in changes:
        seen.setdefault(path, set()).add(getattr(change, "name", str(change)))
    return {
        Path(path)
        for path, kinds in seen.items()
        if not ({"added", "deleted"} <= kinds and not Path(path).exists())
    }


class FileWatch:
    """watchfiles (inotify, not polling) on what ``watch`` acts on; ``next`` gives a batch of paths."""

    def __init__(self, settings: Settings, *, debounce_ms: int = 400, step_ms: int = 30) -> None:
        inputs = warm.staged_inputs(settings)
        self.deep, self.flat = watched_paths(settings, inputs)
        self._files = {p.absolute() for p in inputs} | (
            {settings.lock_file.absolute()} if settings.lock_file is not None else set()
        )
        self._debounce, self._step = debounce_ms, step_ms
        self._queue: queue.Queue[set[Path]] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> FileWatch:
        """Start watching (changes from now on are kept until ``next`` takes them)."""
        import watchfiles

        def pump(paths: list[Path], recursive: bool, keep: Callable[[Any, str], bool]) -> None:
            for changes in watchfiles.watch(
                *paths,
                watch_filter=keep,
                debounce=self._debounce,
                step=self._step,
                stop_event=self._stop,
                raise_interrupt=False,
                recursive=recursive,
            ):
                if batch := changed_paths(changes):
                    self._queue.put(batch)

        default = watchfiles.DefaultFilter()
        groups: list[tuple[list[Path], bool, Callable[[Any, str], bool]]] = [
            (self.deep, True, lambda change, path: default(change, path) and not _ignored(Path(path))),
            (self.flat, False, lambda change, path: Path(path).absolute() in self._files),
        ]
        for paths, recursive, keep in groups:
            if paths:
                thread = threading.Thread(
                    target=pump, args=(paths, recursive, keep), name="lh-watch", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return self

    def next(self, timeout: float | None = None) -> set[Path] | None:
        """The next batch (with whatever else arrived meanwhile), or None after ``timeout`` seconds."""
        try:
            batch = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        while not self._queue.empty():
            batch |= self._queue.get_nowait()
        return batch

    def batches(self) -> Iterator[set[Path]]:
        """Batches forever (until Ctrl-C); the watcher stops when the iteration ends."""
        try:
            if not self._threads:
                self.start()
            while True:
                batch = self.next()
                if batch:
                    yield batch
        finally:
            self.close()

    def close(self) -> None:
        """Stop the watcher threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)


# --- the loop --------------------------------------------------------------------------------


@dataclass
class WatchStages:
    """What the loop calls (real ones by default; tests may swap one)."""

    build: Callable[[Settings, UI], Any]
    deploy: Callable[[Settings, UI, str], Deployment]
    invoker: Callable[[str, Inventory], Invoker] = Invoker.for_inventory
    prestart: Callable[[str, Inventory], None] | None = None


def default_watch_stages() -> WatchStages:
    """The real build (``run``'s: what Terraform deploys, read from its plan when modules, for_each
    or archive_file hide it, then the zips), warm-loop deploy, Invoker and prestart."""
    from lambda_harness.pipeline import build, prestart
    from lambda_harness.terraform.deploy import default_clients

    clients: dict[str, Any] = {}

    def deploy(settings: Settings, ui: UI, url: str) -> Deployment:
        # One set of boto3 clients for the whole session: making them costs ~0.1 s a save.
        if url not in clients:
            clients[url] = default_clients(url)
        return deploy_for_run(settings, ui, url, warm=True, clients=clients[url])

    return WatchStages(build=build, deploy=deploy, prestart=prestart)


class WatchLoop:
    """The state between batches: what is deployed, the latest results, the import graph."""

    def __init__(
        self, settings: Settings, ui: UI, url: str, stages: WatchStages, clock: Callable[[], float]
    ) -> None:
        self.settings, self.ui, self.url, self.stages, self.clock = settings, ui, url, stages, clock
        self.results = LiveResults()
        self.inventory: Inventory | None = None
        self.invoker: Invoker | None = None
        self.batches = 0
        self._pending: Deployment | None = None  # an apply whose second plan still runs
        self.iam_ledger = IamLedger(url)  # what each case's invocation was refused (as run says)

    # -- stages, each one failing softly: watching goes on --------------------------------------

    def _deploy(self) -> bool:
        try:
            self.stages.build(self.settings, self.ui)
            deployment = self.stages.deploy(self.settings, self.ui, self.url)
        except HarnessError as exc:
            self.ui.warn(f"{exc}\n(fix it and save: watch goes on)")
            return False
        self.inventory = deployment.inventory
        self.invoker = self.stages.invoker(self.url, deployment.inventory)
        self.results.forget(deployment.inventory.names())
        self._pending = deployment
        return True

    def _finish_check(self) -> None:
        """The second plan of an apply, once the results are on screen."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.finish(self.ui)
        except HarnessError as exc:
            self.ui.warn(str(exc))
        finally:
            pending.cancel()

    def _rerun(self, functions: set[str] | None) -> list[str]:
        """Rerun the cases of ``functions`` (None: all); the names rerun."""
        if self.inventory is None or self.invoker is None:
            return []
        deployed = self.inventory.names()
        try:
            found = discover(self.settings.cases_dir)
        except HarnessError as exc:
            self.ui.warn(str(exc))
            return []
        self.results.gate = gate(deployed, found, self.settings.cases_dir)
        names = sorted(n for n in deployed if functions is None or n in functions)
        cases: list[EventCase] = [case for name in names for case in found.get(name, [])]
        invoker, index = self.invoker, self.inventory.iam
        ledger, project_dir = self.iam_ledger, self.settings.project_dir

        def iam(inv: Invocation) -> tuple[list[dict[str, Any]], list[str]]:
            return case_denials(ledger, inv.request_id, inv.ok, index, project_dir)

        results = run_cases(lambda case: invoker.invoke(case.function, case.event_bytes()), cases, iam=iam)
        self.results.update(names, results)
        return names

    def _show(self, what: str, ran: list[str], started: float) -> None:
        deployed = self.inventory.names() if self.inventory is not None else []
        took = self.clock() - started
        ran_text = ", ".join(ran) if len(ran) <= 6 else f"{len(ran)} functions"
        self.ui.info(f"watch: {what}; reran {ran_text or 'nothing'} in {took:.2f}s")
        self.ui.table("functions", list(SUMMARY_COLUMNS), self.results.rows(deployed))
        for text in self.results.failures():
            self.ui.fail(text)

    # -- the two entry points ----------------------------------------------------------------

    def first(self) -> None:
        """Build, deploy, start every environment, run every case."""
        started = self.clock()
        deployed = self._deploy()
        if deployed and self.inventory is not None and self.stages.prestart is not None:
            self.stages.prestart(self.url, self.inventory)
        ran = self._rerun(None) if deployed else []
        self._show("started", ran, started)
        self._finish_check()

    def handle(self, paths: Iterable[Path]) -> bool:
        """React to one batch; False when nothing in it concerns watch."""
        batch = classify(self.settings, paths, warm.staged_inputs(self.settings))
        if not batch:
            return False
        self.batches += 1
        started = self.clock()
        affected: set[str] | None = set()
        if batch.code or batch.lock or batch.terraform or self.inventory is None:
            before = self.inventory
            if not self._deploy():
                self._show(batch.describe(self.settings.project_dir), [], started)
                return True
            applied = self._pending is not None and self._pending.mode != "warm"
            if batch.lock or batch.terraform or applied or before is None:
                affected = None  # everything may have changed under every function
            else:
                functions = self.inventory.functions if self.inventory else []
                handlers = {fn.name: fn.handler for fn in functions}
                shas = {fn.name: fn.code_sha256 for fn in functions if fn.code_sha256}
                affected = affected_functions(self.settings, batch.code, handlers, shas)
        if affected is not None and batch.cases:
            cases_root = self.settings.cases_dir.absolute()
            affected |= {p.relative_to(cases_root).parts[0] for p in batch.cases if p != cases_root}
        ran = self._rerun(affected)
        self._show(batch.describe(self.settings.project_dir), ran, started)
        self._finish_check()
        return True


def affected_functions(
    settings: Settings,
    changed: Sequence[Path],
    handlers: Mapping[str, str],
    code_sha256: Mapping[str, str] | None = None,
) -> set[str]:
    """The functions (of ``handlers``: name -> ``module.function``) whose code a change reaches.

    Each zip of the build record (``.harness/build.json``) is read from its own folder: one
    dists.zip from the functions folder, or one zip per function (``archive_file`` over
    ``functions/<name>``, where ``handler.py`` is the module ``handler``); a change in a layer's
    folder reaches every function that uses the layer. Without a record: the functions folder.
    """
    record = BuildRecord.load(settings.paths.build_record, settings.project_dir)
    entries = [e for e in record.entries if e.get("source")] if record is not None else []
    if not entries:
        return ImportGraph.scan(settings.functions_dir).affected(changed, handlers)
    out: set[str] = set()
    for entry in entries:
        root = (settings.project_dir / str(entry["source"])).absolute()
        inside = [p for p in changed if p.absolute().is_relative_to(root)]
        if not inside:
            continue
        users = [str(n) for n in entry.get("used_by") or []]
        if users:  # a layer: its modules are imported by name from python/, by every user
            out |= {n for n in users if n in handlers}
            continue
        named = {str(n) for n in entry.get("functions") or []}
        named |= {n for n, sha in (code_sha256 or {}).items() if sha and sha == entry.get("code_sha256")}
        own = {n: handlers[n] for n in named if n in handlers}
        if named and not own:  # the record names them otherwise (a Terraform address): all may be
            own = dict(handlers)
        out |= ImportGraph.scan(root).affected(inside, own)
    return out


def watch(
    settings: Settings,
    ui: UI,
    *,
    changes: Iterable[Iterable[Path]] | None = None,
    stages: WatchStages | None = None,
    max_batches: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> int:
    """``lambda-harness watch``: until Ctrl-C (or ``max_batches`` batches that concerned it).

    ``changes``: where batches of changed paths come from (default: ``FileWatch``). Returns
    0 when the last results were all green, else 1.
    """
    stages = stages or default_watch_stages()
    with endpoint_session(settings, ui) as url:
        loop = WatchLoop(settings, ui, url, stages, clock)
        source: Iterable[Iterable[Path]]
        file_watch = None
        if changes is None:
            file_watch = FileWatch(settings).start()  # before the first run: no save is missed
            source = file_watch.batches()  # never-ending; Ctrl-C stops it
        else:
            source = changes
        try:
            loop.first()
            where = ", ".join(_shown(p, settings.project_dir) for p in _watched(settings))
            ui.info(f"watching {where} (Ctrl-C stops)")
            for paths in source:
                if paths and loop.handle(paths) and max_batches and loop.batches >= max_batches:
                    break
        finally:
            if file_watch is not None:
                file_watch.close()
    return 0 if loop.results.ok else 1


def _watched(settings: Settings) -> list[Path]:
    deep, _flat = watched_paths(settings, [])
    return deep + ([settings.lock_file] if settings.lock_file is not None else [])
