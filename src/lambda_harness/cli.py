"""``lambda-harness``: argv -> Settings -> one library call -> exit code.

Nothing here knows how a stage works; errors become exit codes in ``main`` only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lambda_harness import __version__, net
from lambda_harness.errors import ConfigError, HarnessError
from lambda_harness.fsutil import repo_lock
from lambda_harness.paths import ignore_in_git
from lambda_harness.settings import (
    BACKENDS,
    COVERAGE_MODES,
    FILESYSTEMS,
    IAM_MODES,
    TF_DRIVERS,
    Settings,
    load_settings,
)
from lambda_harness.ui import UI, make_ui

Command = Callable[[Settings, UI, argparse.Namespace], int]


def cmd_build(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.pipeline import build

    result = build(settings, ui)
    for each in result.all():
        ui.info(
            f"{each.zip_path}  sha256={each.sha256}  CodeSha256={each.code_sha256_b64}  "
            f"({each.zipped_size:,} bytes zipped, {each.unzipped_size:,} unzipped)"
        )
    return 0


def cmd_up(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.endpoint import control

    if args.detach:
        if settings.backend == "embedded":  # the background endpoint's own notice goes to its log
            from lambda_harness.endpoint.runtime.filesystem import choose

            _view, note = choose(settings.filesystem)
            if note is not None:
                ui.warn(note)
        pid = control.start_detached(settings)
        ui.info(
            f"endpoint {settings.endpoint_url} running in the background (pid {pid}); "
            f"stop it with: {control.down_command(settings)}"
        )
        ui.info(control.api_urls_hint(settings.endpoint_url))
        return 0
    control.serve_foreground(settings, ui)
    return 0


def cmd_down(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.endpoint import control

    if settings.backend == "localstack":
        from lambda_harness.endpoint.localstack import down_localstack

        down_localstack(settings, ui)
        return 0
    stopped = control.stop_detached(settings)
    ui.info("endpoint stopped" if stopped else "no detached endpoint was running")
    return 0


def cmd_trigger(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.endpoint import control

    fired = control.trigger(settings, args.rule, bus=args.bus)
    ui.info(f"rule {args.rule}: delivered to {', '.join(fired) or 'no targets'}")
    return 0


def cmd_invoke(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.testing.invoker import invoker_for, read_event_source, show_invocation

    body = read_event_source(args.event, None)
    result = invoker_for(settings).invoke(args.function, body)
    return 0 if show_invocation(ui, args.function, result) else 1


def cmd_apply(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.pipeline import apply_only

    apply_only(settings, ui)
    return 0


def cmd_plan(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.terraform.deploy import plan

    return 0 if plan(settings, ui) else 1


def cmd_destroy(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.terraform.deploy import destroy

    destroy(settings, ui, settings.endpoint_url)
    return 0


def cmd_smoke(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.pipeline import smoke

    return 0 if smoke(settings, ui).ok else 1


def cmd_run(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.pipeline import run

    report = run(settings, ui, pytest_args=args.pytest_args, shard=args.shard, durations=args.durations)
    return 0 if report.ok else 1


def cmd_merge(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.pipeline import merge

    return 0 if merge(settings, ui, args.dirs).ok else 1


def cmd_watch(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.endpoint.control import signals_as_interrupt
    from lambda_harness.watch import watch

    # Long-running like `up`: a service manager's SIGTERM, or Ctrl-C when a shell started it
    # with `&` (SIGINT ignored), must still stop the endpoint it started and every worker.
    with signals_as_interrupt():
        return watch(settings, ui)


def cmd_promote(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.promote.release import promote

    def confirm(changes: object) -> bool:
        if not sys.stdin.isatty():
            return False
        return input("Apply this plan to the REAL backend? [y/N] ").strip().lower() in ("y", "yes")

    result = promote(settings, ui, auto_approve=args.auto_approve, confirm=confirm)
    return 0 if result.applied else 1


def cmd_new(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.scaffold.new import new_function, shown_path

    written = new_function(settings, args.name, args.trigger)
    for path in written:
        ui.info(f"wrote {shown_path(path, settings.project_dir)}")
    ui.info(f"next: edit {shown_path(written[1], settings.project_dir)}, then run: lambda-harness run")
    return 0


def cmd_generate_event(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    import json

    from lambda_harness.testing.generate import Options, generate, target_for
    from lambda_harness.testing.plugin import load_inventory

    if args.case and not args.function:
        raise ConfigError("--case needs --function: the case goes to <cases>/<function>/<case>.json")
    target = None
    if args.function:
        target = target_for(load_inventory(settings.paths.inventory), args.function, args.source)
    options = Options(key=args.key, body=args.body, path=args.path, method=args.method, detail=args.detail)
    text = json.dumps(generate(args.source, target, options), indent=2) + "\n"
    if not args.case:
        ui.emit(text.rstrip("\n"))
        return 0
    path = settings.cases_dir / args.function / f"{args.case}.json"
    if path.exists():
        raise ConfigError(f"{path} already exists; pick another --case name or delete it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    ui.info(f"wrote {path}")
    return 0


def cmd_new_world(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.scaffold.new import shown_path
    from lambda_harness.terraform.world import write_draft

    result = write_draft(settings, force=args.force)
    for path in result.written:
        ui.info(f"wrote {shown_path(path, settings.project_dir)}")
    for text in result.skipped:
        ui.warn(text)
    for text in result.notes:
        ui.info(text)
    if result.written:
        ui.info("next: review the draft (values marked `# local value`), then run: lambda-harness run")
    return 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, help="worker repo folder (default: current folder)")
    parser.add_argument(
        "--port",
        type=int,
        help="endpoint port (default: this project's detached endpoint when one runs, else 4566)",
    )
    parser.add_argument("--host", help="endpoint host (default 127.0.0.1; loopback only, see below)")
    parser.add_argument(
        "--allow-non-loopback",
        dest="allow_non_loopback",
        action="store_true",
        default=None,
        help="permit a --host that is not loopback (the endpoint has no authentication: anyone who "
        "reaches it runs code as you); also LAMBDA_HARNESS_ALLOW_NON_LOOPBACK=1, never pyproject.toml",
    )
    parser.add_argument("--backend", choices=BACKENDS, help="embedded endpoint or LocalStack")
    parser.add_argument("--tf-driver", dest="tf_driver", choices=TF_DRIVERS, help="terraform or tflocal")
    parser.add_argument(
        "--filesystem",
        choices=FILESYSTEMS,
        help="what functions see: AWS's /var/task, /opt and private /tmp where the kernel allows "
        "(auto, the default), always (aws) or host paths (host)",
    )
    parser.add_argument(
        "--iam",
        choices=IAM_MODES,
        help="function roles on the embedded endpoint: enforce (default: a denied call fails the run), "
        "warn (report only) or off",
    )
    parser.add_argument("-v", "--verbose", action="store_true", default=None, help="stream tool output")
    parser.add_argument("-q", "--quiet", action="store_true", default=None, help="warnings and errors only")


COMMANDS: dict[str, tuple[Command, str]] = {
    "build": (cmd_build, "build dists.zip (reproducible, Lambda-platform wheels, size-checked)"),
    "up": (cmd_up, "serve the embedded AWS endpoint (moto + real Lambda runtime)"),
    "down": (cmd_down, "stop a detached endpoint"),
    "apply": (
        cmd_apply,
        "apply terraform/ to the local endpoint (staged copy, local state, idempotency check)",
    ),
    "plan": (
        cmd_plan,
        "the staged terraform plan against the local endpoint, with the harness's environment "
        "(never your credentials): shows a perpetual diff; exit 1 when something would change",
    ),
    "destroy": (cmd_destroy, "destroy what `apply` created on the local endpoint"),
    "invoke": (cmd_invoke, "invoke one deployed function; prints payload and log tail"),
    "trigger": (cmd_trigger, "fire an EventBridge rule now, with a scheduled-event payload"),
    "smoke": (cmd_smoke, "build, up, apply, then initialise every function (import + handler)"),
    "run": (cmd_run, "the whole pipeline: build, up, apply, a test per event case, down, attestation"),
    "watch": (
        cmd_watch,
        "keep the endpoint up; on every save rebuild, update code or re-apply, rerun the cases it reaches",
    ),
    "promote": (cmd_promote, "real terraform plan/apply of exactly the tested zip"),
    "new": (cmd_new, "scaffold a function: handler, terraform/lambda_<name>.tf, event case"),
    "new-world": (
        cmd_new_world,
        "draft tests/integration/world/ (what the Terraform looks up) and the harness tfvars",
    ),
    "merge": (cmd_merge, "merge the shards' .harness folders; attest only if every shard passed"),
    "generate-event": (
        cmd_generate_event,
        "print an event of AWS's shape; with --function, values from the deployment's triggers",
    ),
}


#: Commands that talk to the endpoint: without a chosen port they use this project's detached one.
ENDPOINT_COMMANDS = frozenset(
    {"build", "run", "apply", "plan", "destroy", "smoke", "invoke", "trigger", "watch", "down"}
)

#: Commands that build, deploy or ship: one at a time per repo (``.harness/lock``). ``build`` too:
#: a build during a run would swap the zip being tested; ``watch`` builds and applies on every save;
#: ``merge`` rewrites the results and the attestation. ``up``, ``invoke``, ``trigger`` and ``down``
#: only poke at an endpoint and may run beside them.
LOCKED = frozenset({"build", "run", "apply", "destroy", "smoke", "promote", "plan", "watch", "merge"})


def _add_specific(name: str, p: argparse.ArgumentParser) -> None:
    if name == "build":
        p.add_argument(
            "--dist", type=Path, help="where to write the zip (default: what terraform references)"
        )
    elif name == "up":
        p.add_argument("--detach", action="store_true", help="run in the background")
    elif name == "trigger":
        p.add_argument("rule", help="EventBridge rule name")
        p.add_argument("--bus", help="event bus of the rule (default: the default bus)")
    elif name == "invoke":
        p.add_argument("function", help="deployed function name (invoked in the region of its ARN)")
        p.add_argument("--event", help="event JSON file, or - for stdin (default: {})")
    elif name == "run":
        p.add_argument(
            "--coverage",
            nargs="?",
            const="line",
            default=None,
            choices=COVERAGE_MODES,
            help="measure coverage of functions/ inside the execution environments: line (the default "
            "of --coverage; fast, sys.monitoring on Python 3.12+) or branch (line + branch; slower "
            "before Python 3.14); pytest arguments then go after --",
        )
        p.add_argument("--shard", metavar="K/N", help="test only part K of N of the deployed functions")
        p.add_argument(
            "--durations", type=Path, help="a previous results.json: balance shards by its durations"
        )
        p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
        p.add_argument(
            "--no-warm",
            dest="warm",
            action="store_false",
            default=None,
            help="always apply Terraform, even on a warm endpoint whose Terraform inputs are unchanged",
        )
    if name in ("build", "run", "smoke"):
        p.add_argument(
            "--skip-function",
            dest="skip_functions",
            action="append",
            metavar="NAME",
            help="exclude a deployed function from testing on purpose (repeatable; listed in the run's "
            "output and the attestation; also skip-functions in [tool.lambda-harness])",
        )
    elif name == "promote":
        p.add_argument(
            "--yes", "--auto-approve", dest="auto_approve", action="store_true", help="apply without asking"
        )
    elif name == "merge":
        p.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="each shard's .harness folder")
    elif name == "generate-event":
        from lambda_harness.testing.generate import SOURCES

        p.add_argument("source", choices=tuple(SOURCES), help="event source")
        p.add_argument("--function", help="deployed function: values from .harness/inventory.json")
        p.add_argument("--key", help="s3: the object key")
        p.add_argument("--body", help="message body, record data, request body or log line")
        p.add_argument("--path", help="API / function URL: the request path (with ?query)")
        p.add_argument("--method", help="API / function URL: the HTTP method")
        p.add_argument("--detail", help="eventbridge-custom: the detail object (JSON)")
        p.add_argument("--case", help="write <cases>/<function>/<CASE>.json instead of printing")
    elif name == "new":
        p.add_argument("name", help="function name (a Python identifier)")
        p.add_argument(
            "--trigger",
            required=True,
            choices=("schedule", "s3", "sqs", "api", "manual"),
            help="event source",
        )
    elif name == "new-world":
        p.add_argument("--force", action="store_true", help="overwrite an existing draft")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-harness",
        description="Prove every Lambda function of a worker repo works before the real terraform apply: "
        "build -> up -> apply -> test -> promote.",
        epilog="Every command works on the repo in the current folder, or --project DIR.",
    )
    parser.add_argument("--version", action="version", version=f"lambda-harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p)
        _add_specific(name, p)
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    cli: dict[str, Any] = {
        "port": args.port,
        "host": args.host,
        "allow_non_loopback": args.allow_non_loopback,
        "backend": args.backend,
        "tf_driver": args.tf_driver,
        "iam": args.iam,
        "filesystem": args.filesystem,
        "verbose": args.verbose,
        "quiet": args.quiet,
        "dist": getattr(args, "dist", None),
        "skip_functions": getattr(args, "skip_functions", None),
        "warm": getattr(args, "warm", None),
        "coverage": getattr(args, "coverage", None),
    }
    return load_settings(args.project, cli)


def _endpoint_of_project(settings: Settings, ui: UI) -> Settings:
    """``settings`` on this project's detached endpoint when no port was chosen and it answers."""
    from lambda_harness.endpoint import control

    recorded = control.project_endpoint(settings)
    if recorded is None:
        return settings
    ui.info(f"using this project's endpoint on {recorded.host}:{recorded.port} (up --detach)")
    return recorded


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lambda-harness`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ui = make_ui(quiet=bool(args.quiet))
    settings: Settings | None = None
    try:
        settings = _settings_from(args)
        if args.command in ENDPOINT_COMMANDS:
            settings = _endpoint_of_project(settings, ui)
        if not net.is_loopback(settings.host):  # only reachable with the user's own opt-in
            address = f"{settings.host}:{settings.port}"
            ui.warn(net.exposure_warning(address, settings.source_of("host")))
        func, _help = COMMANDS[args.command]
        if args.command not in LOCKED:
            return func(settings, ui, args)
        settings.paths.ensure()
        with repo_lock(settings.paths.lock, args.command):
            return func(settings, ui, args)
    except HarnessError as exc:
        print(f"lambda-harness {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"lambda-harness {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # A last safety net: a filesystem or socket error no stage foresaw is still a message,
        # not a traceback (stages wrap the ones they expect in HarnessError with a fix).
        print(f"lambda-harness {args.command}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if settings is not None:
            with contextlib.suppress(OSError):
                ignore_in_git(settings.harness_dir)


if __name__ == "__main__":
    sys.exit(main())
