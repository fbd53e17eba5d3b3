"""One lambda-harness run per repo at a time (issue 9, item 11): the harness's own lock on
``.harness/``, taken before anything else, names the holder's pid; a second run fails at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambda_harness import cli
from support.tiny_repo import free_port, write_tiny_repo

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lambda_harness.fsutil import repo_lock
    from lambda_harness.paths import HarnessPaths

    paths = HarnessPaths(Path(sys.argv[1]))
    paths.ensure()
    with repo_lock(paths.lock, "run"):
        print("locked", flush=True)
        sys.stdin.read()  # hold it until the test closes our stdin
    """
)


@pytest.mark.parametrize(
    "command", ["run", "apply", "destroy", "smoke", "promote", "plan", "build", "watch", "merge shard-1"]
)
def test_a_second_run_in_the_same_repo_fails_at_once_naming_the_holder(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_tiny_repo(tmp_path / "repo")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo / ".harness")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code = cli.main([*command.split(), "--project", str(repo), "--port", str(free_port())])
        err = capsys.readouterr().err
        assert code == 1
        assert f"another lambda-harness run (pid {holder.pid}) is using this repo" in err
        assert str(repo / ".harness") in err
        assert not (repo / "dists.zip").exists()  # refused before the build
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_the_lock_is_released_when_a_command_ends_even_on_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambda_harness.fsutil import repo_lock
    from lambda_harness.paths import HarnessPaths

    repo = write_tiny_repo(tmp_path / "repo")
    (repo / "functions" / "hello.py").unlink()  # apply fails in the build: no handler module
    assert cli.main(["apply", "--project", str(repo), "--port", str(free_port())]) != 0
    capsys.readouterr()
    with repo_lock(HarnessPaths(repo / ".harness").lock, "test"):  # free again: taken at once
        pass
