"""Interpreter resolution with fake installs and a fake probe (nothing is executed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.endpoint.runtime.interpreters import Interpreter, InterpreterFinder
from lambda_harness.endpoint.runtime.model import InterpreterNotFound
from lambda_harness.errors import EndpointError


def fake_exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


class FakeProbe:
    """Answers with the version written in the path (``.../3.12.1/...`` or ``python3.12``); counts calls."""

    def __init__(self, broken: set[Path] | None = None) -> None:
        self.calls: list[Path] = []
        self.broken = broken or set()

    def __call__(self, candidate: Path) -> Interpreter | None:
        self.calls.append(candidate)
        if candidate in self.broken:
            return None
        minor = int(candidate.name.removeprefix("python3."))
        return Interpreter(candidate.resolve(), (3, minor))


def finder(tmp_path: Path, probe: FakeProbe, path_dirs: list[Path] | None = None) -> InterpreterFinder:
    return InterpreterFinder(
        path_env=":".join(str(p) for p in path_dirs or []),
        pyenv_root=tmp_path / "pyenv",
        system_dirs=(tmp_path / "usr" / "bin",),
        probe=probe,
    )


def test_finds_pyenv_version_and_caches_the_answer(tmp_path: Path) -> None:
    exe = fake_exe(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12")
    probe = FakeProbe()
    f = finder(tmp_path, probe)
    assert f.find((3, 12)) == Interpreter(exe, (3, 12))
    assert f.find((3, 12)) == Interpreter(exe, (3, 12))
    assert probe.calls == [exe]


def test_path_comes_before_pyenv_and_broken_candidates_are_skipped(tmp_path: Path) -> None:
    on_path = fake_exe(tmp_path / "bin" / "python3.12")
    in_pyenv = fake_exe(tmp_path / "pyenv" / "versions" / "3.12.7" / "bin" / "python3.12")
    assert finder(tmp_path, FakeProbe(), [tmp_path / "bin"]).find((3, 12)) == Interpreter(on_path, (3, 12))
    skipping = finder(tmp_path, FakeProbe(broken={on_path}), [tmp_path / "bin"])
    assert skipping.find((3, 12)) == Interpreter(in_pyenv, (3, 12))


def test_newest_pyenv_patch_release_first(tmp_path: Path) -> None:
    fake_exe(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12")
    newer = fake_exe(tmp_path / "pyenv" / "versions" / "3.12.9" / "bin" / "python3.12")
    assert finder(tmp_path, FakeProbe()).candidates((3, 12))[0] == newer


def test_missing_interpreter_message_names_function_places_and_fix(tmp_path: Path) -> None:
    fake_exe(tmp_path / "usr" / "bin" / "python3.13")
    f = finder(tmp_path, FakeProbe())
    with pytest.raises(InterpreterNotFound) as info:
        f.resolve("risk_ingest", "python3.12", allow_fallback=False)
    text = str(info.value)
    assert text.startswith(
        "function risk_ingest declares runtime python3.12 but no CPython 3.12 was found (looked in PATH"
    )
    assert str(tmp_path / "pyenv" / "versions") in text
    assert "Install it (pyenv install 3.12) or set allow-runtime-fallback = true" in text
    assert "LAMBDA_HARNESS_ALLOW_RUNTIME_FALLBACK=1 to run it under 3.13" in text


def test_no_interpreter_at_all(tmp_path: Path) -> None:
    with pytest.raises(InterpreterNotFound, match=r"No other CPython 3\.9-3\.14 was found either"):
        finder(tmp_path, FakeProbe()).resolve("f", "python3.12", allow_fallback=True)


def test_fallback_prefers_nearest_newer_then_older(tmp_path: Path) -> None:
    older = fake_exe(tmp_path / "usr" / "bin" / "python3.11")
    newer = fake_exe(tmp_path / "usr" / "bin" / "python3.13")
    f = finder(tmp_path, FakeProbe())
    chosen, warning = f.resolve("f", "python3.12", allow_fallback=True)
    assert chosen.path == newer and warning is not None and "CPython 3.13" in warning
    newer.unlink()
    g = finder(tmp_path, FakeProbe())
    assert g.resolve("f", "python3.12", allow_fallback=True)[0].path == older
    assert g.fallback_order((3, 12))[:4] == [(3, 13), (3, 11), (3, 14), (3, 10)]


def test_exact_match_has_no_warning_and_unknown_runtime_is_refused(tmp_path: Path) -> None:
    fake_exe(tmp_path / "usr" / "bin" / "python3.9")
    f = finder(tmp_path, FakeProbe())
    assert f.resolve("f", "python3.9", allow_fallback=False)[1] is None
    with pytest.raises(EndpointError, match=r"runtime 'nodejs20\.x'"):
        f.resolve("f", "nodejs20.x", allow_fallback=True)


def test_from_environ_defaults_pyenv_root_to_home(tmp_path: Path) -> None:
    f = InterpreterFinder.from_environ({"HOME": str(tmp_path), "PATH": "/nowhere"})
    assert f.pyenv_root == tmp_path / ".pyenv"
    assert InterpreterFinder.from_environ({"PYENV_ROOT": "/opt/pyenv"}).pyenv_root == Path("/opt/pyenv")
