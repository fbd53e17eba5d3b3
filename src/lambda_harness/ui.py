"""How the library reports progress: an injected ``UI`` object, never print().

``RichUI`` draws spinners and tables on a terminal; ``PlainUI`` writes plain
lines (CI, pipes, ``--quiet``). Library code only calls the ``UI`` protocol.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TextIO


class UI(Protocol):
    """What a stage may tell the user."""

    def info(self, message: str) -> None: ...

    def emit(self, text: str) -> None:
        """The command's product (a payload, a report) on stdout, so it can be piped."""
        ...

    def warn(self, message: str) -> None: ...

    def fail(self, message: str) -> None:
        """What made the command fail (a case, a check), shown even when ``--quiet``."""
        ...

    def step(self, title: str) -> AbstractContextManager[None]: ...

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None: ...


class PlainUI:
    """Plain lines on a stream; ``quiet`` keeps only warnings."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, out: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout
        self.quiet = quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self.stream, flush=True)

    def fail(self, message: str) -> None:
        print(f"failed: {message}", file=self.stream, flush=True)

    def emit(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        start = time.monotonic()
        self.info(f"{title} ...")
        yield
        self.info(f"{title}: done in {time.monotonic() - start:.1f}s")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        cells = [[str(v) for v in row] for row in rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        print(title, file=self.stream)
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)), file=self.stream)
        for row in cells:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)), file=self.stream)
        self.stream.flush()


class RichUI:
    """Spinners for slow steps and tables, on an interactive terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)

    def info(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {message}", highlight=False)

    def fail(self, message: str) -> None:
        self.console.print(f"[bold red]failed:[/] {message}", highlight=False)

    def emit(self, text: str) -> None:
        print(text, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        start = time.monotonic()
        with self.console.status(f"{title} ..."):
            yield
        self.console.print(f"[green]✓[/] {title} [dim]({time.monotonic() - start:.1f}s)[/]")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from rich.table import Table

        tab = Table(title=title)
        for col in columns:
            tab.add_column(col)
        for row in rows:
            tab.add_row(*(str(v) for v in row))
        self.console.print(tab)


def make_ui(quiet: bool = False, stream: TextIO | None = None) -> UI:
    """Rich on a terminal (not in CI), plain lines otherwise."""
    import os

    target = stream or sys.stderr
    if not quiet and target.isatty() and not os.environ.get("CI"):
        return RichUI()
    return PlainUI(target, quiet=quiet)


class RecordingUI:
    """A UI that keeps what it was told: the fake that tests hand to a stage."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []
        #: What ``fail`` was told (also kept in ``warnings``: both are what a user must act on).
        self.failures: list[str] = []
        self.steps: list[str] = []
        self.emitted: list[str] = []
        self.tables: list[tuple[str, list[list[str]]]] = []

    @property
    def lines(self) -> list[str]:
        """Info lines and step titles, in order (what a terminal would show)."""
        return self.infos

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, message: str) -> None:
        self.failures.append(message)
        self.warnings.append(message)

    def emit(self, text: str) -> None:
        self.emitted.append(text)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.steps.append(title)
        self.infos.append(title)
        yield

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.tables.append((title, [[str(v) for v in r] for r in rows]))
