"""Loopback only, by default, at every entry point, before a single byte is sent (issue 9, items 1-2).

A real listener on this machine's own non-loopback address stands in for "another host": after a
refused command returns, its accept queue must be empty (the kernel completes a TCP handshake
without us accepting, so a connection attempt would be waiting there).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import cli
from lambda_harness.endpoint import control
from lambda_harness.settings import load_settings
from support.fake_lambda import write_inventory

pytest_plugins = ["pytester"]


def outward_address() -> str | None:
    """This machine's own non-loopback IPv4 address (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
            address = str(sock.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def outward() -> str:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


class Listener:
    """A listening socket nobody accepts on: connections pile up in its queue."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.host, self.port = host, int(self.sock.getsockname()[1])

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener(outward: str) -> Iterator[Listener]:
    lst = Listener(outward)
    yield lst
    lst.sock.close()


def worker_repo(root: Path, pyproject: str = "") -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "terraform").mkdir()
    (root / "terraform" / "main.tf").write_text(
        'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  handler = "app.handler"\n'
        '  runtime = "python3.12"\n  role = "arn:aws:iam::123456789012:role/r"\n'
        '  filename = "../dists.zip"\n}\n'
    )
    if pyproject:
        (root / "pyproject.toml").write_text(pyproject)
    return root


COMMANDS = [
    ["up"],
    ["up", "--detach"],
    ["apply"],
    ["run"],
    ["smoke"],
    ["destroy"],
    ["invoke", "f"],
    ["trigger", "some-rule"],
    ["plan"],
    ["run", "--backend", "localstack"],
    ["apply", "--backend", "localstack"],
    ["watch"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_non_loopback_host_flag_is_refused_before_anything_is_sent(
    tmp_path: Path, listener: Listener, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = worker_repo(tmp_path / "repo")
    argv = [*command, "--project", str(repo), "--host", listener.host, "--port", str(listener.port)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"--host: host {listener.host!r} is not a loopback address" in err
    assert "--allow-non-loopback" in err and "LAMBDA_HARNESS_ALLOW_NON_LOOPBACK=1" in err
    assert listener.connections() == 0
    assert not (repo / "dists.zip").exists() and not (repo / ".harness").exists()


def test_the_refusal_names_the_environment_variable_or_the_pyproject_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LAMBDA_HARNESS_ALLOW_NON_LOOPBACK", raising=False)
    repo = worker_repo(tmp_path / "env")
    monkeypatch.setenv("LAMBDA_HARNESS_HOST", "0.0.0.0")
    assert cli.main(["up", "--project", str(repo)]) == 2
    assert "LAMBDA_HARNESS_HOST: host '0.0.0.0' is not a loopback address" in capsys.readouterr().err
    monkeypatch.delenv("LAMBDA_HARNESS_HOST")
    repo = worker_repo(tmp_path / "pyproject", '[tool.lambda-harness]\nhost = "0.0.0.0"\n')
    assert cli.main(["run", "--project", str(repo)]) == 2
    where = f"{repo / 'pyproject.toml'} [tool.lambda-harness] host"
    assert f"{where}: host '0.0.0.0' is not a loopback address" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["allow-non-loopback", "allow-remote-endpoint"])
def test_the_opt_in_is_never_read_from_the_repos_pyproject(
    tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = worker_repo(tmp_path / "repo", f'[tool.lambda-harness]\nhost = "0.0.0.0"\n{key} = true\n')
    assert cli.main(["up", "--project", str(repo)]) == 2
    err = capsys.readouterr().err
    assert f"{key} is not read from pyproject.toml" in err and "pull request" in err
    assert "--allow-non-loopback" in err


def test_with_the_opt_in_the_endpoint_listens_there_and_a_loud_warning_says_what_is_exposed(
    tmp_path: Path, outward: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = worker_repo(tmp_path / "repo")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    port = _free(outward)
    argv = ["up", "--detach", "--project", str(repo), "--host", outward, "--port", str(port)]
    try:
        assert cli.main([*argv, "--allow-non-loopback"]) == 0
        err = capsys.readouterr().err
        assert "NOT LOOPBACK" in err and f"{outward}:{port}" in err
        assert "no authentication" in err and "runs code as" in err
        with socket.create_connection((outward, port), timeout=5):
            pass  # it really listens on the outward address
    finally:
        settings = load_settings(repo, {"host": outward, "port": port, "allow_non_loopback": True})
        control.stop_detached(settings)


def _free(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def test_the_pytest_plugin_refuses_a_non_loopback_harness_endpoint(
    pytester: pytest.Pytester, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAMBDA_HARNESS_ALLOW_NON_LOOPBACK", raising=False)
    inventory = write_inventory(pytester.path / "inventory.json", "http://127.0.0.1:4566", {"f": {}})
    (pytester.path / "events").mkdir()
    url = f"http://{listener.host}:{listener.port}"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--harness-inventory",
        str(inventory),
        "--harness-events",
        "events",
        "--harness-endpoint",
        url,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--harness-endpoint: host '{listener.host}' is not a loopback address*"])
    assert listener.connections() == 0


def test_the_plugins_opt_in_is_not_read_from_the_repos_pytest_configuration(
    pytester: pytest.Pytester, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAMBDA_HARNESS_ALLOW_NON_LOOPBACK", raising=False)
    pytester.makeini("[pytest]\naddopts = --harness-allow-non-loopback\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness-endpoint", f"http://{listener.host}:1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-allow-non-loopback is not read from*pull request*"])


def test_the_compose_endpoint_service_binds_loopback_or_opts_in_explicitly() -> None:
    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[3] / "docker-compose.yml").read_text())
    service = compose["services"]["endpoint"]
    env = service.get("environment", {})
    command = service.get("command", [])
    host = command[command.index("--host") + 1] if "--host" in command else env.get("LAMBDA_HARNESS_HOST")
    from lambda_harness.net import is_loopback

    assert host is not None
    assert is_loopback(host) or (
        "--allow-non-loopback" in command or env.get("LAMBDA_HARNESS_ALLOW_NON_LOOPBACK") == "1"
    )
