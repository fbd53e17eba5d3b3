from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.settings import load_settings


def make_repo(tmp_path: Path, pyproject: str = "") -> Path:
    (tmp_path / "functions").mkdir()
    (tmp_path / "terraform").mkdir()
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    return tmp_path


def test_defaults_follow_the_conventional_layout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "requirements.txt").write_text("orjson==3.10.0\n")
    s = load_settings(repo, environ={"HOME": "/home/x"})
    assert s.functions_dir == repo / "functions"
    assert s.terraform_dir == repo / "terraform"
    assert s.lock_file == repo / "requirements.txt"
    assert s.dist is None
    assert s.harness_dir == repo / ".harness"
    assert s.cache_dir == Path("/home/x/.cache/lambda-harness")
    assert s.endpoint_url == "http://127.0.0.1:4566"


def test_pipfile_lock_is_found_when_there_is_no_requirements_txt(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "Pipfile.lock").write_text("{}")
    assert load_settings(repo, environ={}).lock_file == repo / "Pipfile.lock"


def test_precedence_cli_over_env_over_pyproject(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path, '[tool.lambda-harness]\nport = 1111\nregion = "eu-west-1"\nfunctions = "src/fn"\n'
    )
    env = {"LAMBDA_HARNESS_PORT": "2222"}
    s = load_settings(repo, environ=env)
    assert (s.port, s.region, s.functions_dir) == (2222, "eu-west-1", repo / "src/fn")
    s = load_settings(repo, cli={"port": 3333, "host": None}, environ=env)
    assert s.port == 3333
    assert s.host == "127.0.0.1"


def test_unknown_pyproject_key_is_named(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "[tool.lambda-harness]\nprot = 1\n")
    with pytest.raises(
        ConfigError, match=r"pyproject.toml: unknown key\(s\) in \[tool.lambda-harness\]: prot"
    ):
        load_settings(repo, environ={})


def test_bad_values_are_clear_errors(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with pytest.raises(ConfigError, match="LAMBDA_HARNESS_PORT: port = 'abc' is not a valid int"):
        load_settings(repo, environ={"LAMBDA_HARNESS_PORT": "abc"})
    with pytest.raises(ConfigError, match="backend 'aws' is not one of"):
        load_settings(repo, cli={"backend": "aws"}, environ={})


def test_missing_project_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; pass --project DIR"):
        load_settings(tmp_path / "nope", environ={})


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = load_settings(make_repo(tmp_path), environ={})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]
    assert s.with_(port=5).port == 5


def test_world_and_tfvars_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    s = load_settings(repo, environ={})
    assert s.world_dir == repo / "tests/integration/world"
    assert s.tfvars == ()  # the default file only once it exists
    (repo / "tests/integration").mkdir(parents=True)
    (repo / "tests/integration/harness.tfvars").write_text('env = "local"\n')
    assert load_settings(repo, environ={}).tfvars == (repo / "tests/integration/harness.tfvars",)


def test_world_and_tfvars_from_pyproject_and_environment(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path, '[tool.lambda-harness]\nworld = "infra/world"\ntfvars = ["a.tfvars", "/abs/b.tfvars"]\n'
    )
    s = load_settings(repo, environ={})
    assert s.world_dir == repo / "infra/world"
    assert s.tfvars == (repo / "a.tfvars", Path("/abs/b.tfvars"))
    s = load_settings(repo, environ={"LAMBDA_HARNESS_TFVARS": f"x.tfvars{os.pathsep}y.tfvars"})
    assert s.tfvars == (repo / "x.tfvars", repo / "y.tfvars")


def test_tfvars_must_be_a_list_of_paths(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "[tool.lambda-harness]\ntfvars = 3\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: tfvars = 3 is not a valid list of paths"):
        load_settings(repo, environ={})


def test_event_cases_folder_is_the_cases_setting(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    assert load_settings(repo, environ={}).cases_dir == repo / "tests" / "integration" / "events"
    (repo / "pyproject.toml").write_text('[tool.lambda-harness]\ncases = "checks"\n')
    assert load_settings(repo, environ={}).cases_dir == repo / "checks"
    assert load_settings(repo, environ={"LAMBDA_HARNESS_CASES": "env"}).cases_dir == repo / "env"


def test_events_the_former_name_of_cases_still_works(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, '[tool.lambda-harness]\nevents = "old"\n')
    assert load_settings(repo, environ={}).cases_dir == repo / "old"
    assert load_settings(repo, environ={"LAMBDA_HARNESS_EVENTS": "env"}).cases_dir == repo / "env"
    both = {"LAMBDA_HARNESS_EVENTS": "same", "LAMBDA_HARNESS_CASES": "same"}
    assert load_settings(repo, environ=both).cases_dir == repo / "same"


def test_cases_and_events_with_different_values_is_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, '[tool.lambda-harness]\nevents = "a"\ncases = "b"\n')
    with pytest.raises(ConfigError, match=r"\[tool.lambda-harness\]: both cases and its former name events"):
        load_settings(repo, environ={})
    (repo / "pyproject.toml").unlink()
    env = {"LAMBDA_HARNESS_EVENTS": "a", "LAMBDA_HARNESS_CASES": "b"}
    with pytest.raises(ConfigError, match="both LAMBDA_HARNESS_CASES and its former name LAMBDA_HARNESS_EV"):
        load_settings(repo, environ=env)


def test_iam_is_enforce_by_default_and_set_like_every_setting(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert load_settings(make_repo(plain), environ={}).iam == "enforce"
    repo = make_repo(tmp_path, '[tool.lambda-harness]\niam = "warn"\n')
    assert load_settings(repo, environ={}).iam == "warn"
    assert load_settings(repo, environ={"LAMBDA_HARNESS_IAM": "off"}).iam == "off"
    assert load_settings(repo, cli={"iam": "enforce"}, environ={"LAMBDA_HARNESS_IAM": "off"}).iam == "enforce"
    with pytest.raises(ConfigError, match="iam 'strict' is not one of enforce, warn, off"):
        load_settings(repo, environ={"LAMBDA_HARNESS_IAM": "strict"})


@pytest.mark.parametrize(
    ("written", "mode"),
    [("true", "line"), ("false", "off"), ('"line"', "line"), ('"branch"', "branch"), ('"off"', "off")],
)
def test_coverage_is_off_line_or_branch_and_true_means_line(tmp_path: Path, written: str, mode: str) -> None:
    repo = make_repo(tmp_path, f"[tool.lambda-harness]\ncoverage = {written}\n")
    settings = load_settings(repo, environ={})
    assert settings.coverage == mode
    assert settings.measures_coverage is (mode != "off")


def test_coverage_from_the_environment_and_the_flag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    assert load_settings(repo, environ={}).coverage == "off"
    assert load_settings(repo, environ={"LAMBDA_HARNESS_COVERAGE": "1"}).coverage == "line"
    assert load_settings(repo, environ={"LAMBDA_HARNESS_COVERAGE": "Branch"}).coverage == "branch"
    env = {"LAMBDA_HARNESS_COVERAGE": "branch"}
    assert load_settings(repo, cli={"coverage": "line"}, environ=env).coverage == "line"


def test_an_unknown_coverage_mode_names_the_choices(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, '[tool.lambda-harness]\ncoverage = "lines"\n')
    wanted = r"coverage = 'lines' is not a valid coverage mode \(off, line, branch"
    with pytest.raises(ConfigError, match=wanted):
        load_settings(repo, environ={})
