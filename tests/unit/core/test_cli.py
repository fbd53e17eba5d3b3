from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness import cli


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert "lambda-harness" in capsys.readouterr().out


def test_config_error_maps_to_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["build", "--project", str(tmp_path / "missing")])
    assert code == 2
    err = capsys.readouterr().err
    assert "lambda-harness build: error:" in err and "does not exist" in err


def test_every_command_has_help() -> None:
    parser = cli.build_parser()
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])


def test_run_coverage_is_line_unless_branch_is_asked_for() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["run"]).coverage is None
    assert parser.parse_args(["run", "--coverage"]).coverage == "line"
    assert parser.parse_args(["run", "--coverage=branch"]).coverage == "branch"
    args = parser.parse_args(["run", "--coverage", "--", "-k", "x"])
    assert (args.coverage, args.pytest_args) == ("line", ["-k", "x"])
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--coverage=lines"])
