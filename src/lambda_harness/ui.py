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

    def warn(self, message: str) -> None: ...

    def step(self, title: str) -> AbstractContextManager[None]: ...

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None: ...


class PlainUI:
    """Plain lines on a stream; ``quiet`` keeps only warnings."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self.stream, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        start = time.monotonic()
        self.info(f"{title} ...")
        yield
        self.info(f"{title}: done in {time.monotonic() - start:.1f}s")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
        print(title, file=self.stream)
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)), file=self.stream)
        for row in rows:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)), file=self.stream)
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
