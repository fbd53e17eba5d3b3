"""``lambda-harness``: argv -> Settings -> one library call -> exit code.

Nothing here knows how a stage works; errors become exit codes in ``main`` only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lambda_harness import __version__
from lambda_harness.errors import HarnessError
from lambda_harness.settings import BACKENDS, TF_DRIVERS, Settings, load_settings
from lambda_harness.ui import UI, make_ui

Command = Callable[[Settings, UI, argparse.Namespace], int]


def cmd_build(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.build.builder import build

    result = build(settings, ui)
    ui.info(f"{result.zip_path}  sha256={result.sha256}  ({result.zipped_size:,} bytes zipped)")
    return 0


def cmd_up(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.emulator import control

    if args.detach:
        pid = control.start_detached(settings)
        ui.info(f"endpoint {settings.endpoint_url} running in the background (pid {pid}); "
                "stop it with: lambda-harness down")
        return 0
    control.serve_foreground(settings, ui)
    return 0


def cmd_down(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.emulator import control

    stopped = control.stop_detached(settings)
    ui.info("endpoint stopped" if stopped else "no detached endpoint was running")
    return 0


def cmd_trigger(settings: Settings, ui: UI, args: argparse.Namespace) -> int:
    from lambda_harness.emulator import control

    fired = control.trigger(settings, args.rule)
    ui.info(f"rule {args.rule}: delivered to {', '.join(fired) or 'no targets'}")
    return 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, help="worker repo folder (default: current folder)")
    parser.add_argument("--port", type=int, help="endpoint port (default 4566)")
    parser.add_argument("--host", help="endpoint host (default 127.0.0.1)")
    parser.add_argument("--backend", choices=BACKENDS, help="embedded endpoint or LocalStack")
    parser.add_argument("--tf-driver", dest="tf_driver", choices=TF_DRIVERS, help="terraform or tflocal")
    parser.add_argument("-v", "--verbose", action="store_true", default=None, help="stream tool output")
    parser.add_argument("-q", "--quiet", action="store_true", default=None, help="warnings and errors only")


COMMANDS: dict[str, tuple[Command, str]] = {
    "build": (cmd_build, "build dists.zip (reproducible, Lambda-platform wheels, size-checked)"),
    "up": (cmd_up, "serve the embedded AWS endpoint (moto + real Lambda runtime)"),
    "down": (cmd_down, "stop a detached endpoint"),
    "trigger": (cmd_trigger, "fire an EventBridge rule now, with a scheduled-event payload"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lambda-harness", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lambda-harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p)
        if name == "up":
            p.add_argument("--detach", action="store_true", help="run in the background")
        if name == "trigger":
            p.add_argument("rule", help="EventBridge rule name")
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    cli: dict[str, Any] = {
        "port": args.port,
        "host": args.host,
        "backend": args.backend,
        "tf_driver": args.tf_driver,
        "verbose": args.verbose,
        "quiet": args.quiet,
    }
    return load_settings(args.project, cli)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lambda-harness`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ui = make_ui(quiet=bool(args.quiet))
    try:
        settings = _settings_from(args)
        func, _help = COMMANDS[args.command]
        return func(settings, ui, args)
    except HarnessError as exc:
        print(f"lambda-harness {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"lambda-harness {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
