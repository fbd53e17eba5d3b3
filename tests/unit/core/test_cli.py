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
