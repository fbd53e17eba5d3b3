from __future__ import annotations

import os
import re
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
    with pytest.raises(ConfigError, match="LAMBDA_HARNESS_PORT: port = 'abc': must be an integer"):
        load_settings(repo, environ={"LAMBDA_HARNESS_PORT": "abc"})
    with pytest.raises(ConfigError, match="backend = 'aws': must be one of"):
        load_settings(repo, cli={"backend": "aws"}, environ={})


def test_missing_project_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; pass --project DIR"):
        load_settings(tmp_path / "nope", environ={})


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = load_settings(make_repo(tmp_path), environ={})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]
    assert s.with_(port=5).port == 5


# --- strict validation: every error names the source (file + key, variable, or flag) -------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("port = true", r"port = true: must be an integer, not a boolean"),
        ("port = 70000", r"port = 70000: must be between 1 and 65535"),
        ("port = 0", r"port = 0: must be between 1 and 65535"),
        ('port = "4566"', r"port = '4566': must be an integer, not a string"),
        ("max-concurrency = 2.9", r"max-concurrency = 2.9: must be an integer, not a float"),
        ("max-concurrency = 0", r"max-concurrency = 0: must be between 1 and 10000"),
        ('backend = "aws"', r"backend = 'aws': must be one of embedded, localstack"),
        ('tf-driver = "tofu"', r"tf-driver = 'tofu': must be one of terraform, tflocal"),
        ("host = 5", r"host = 5: must be a string, not an integer"),
        ('host = ""', r"host = '': must not be empty"),
        ('host = "http://127.0.0.1"', r"host = 'http://127.0.0.1': must be a host name or address"),
        ('region = "US East"', r"region = 'US East': must look like us-east-1"),
        ("functions = 3", r"functions = 3: must be a path \(a string\), not an integer"),
        ('allow-runtime-fallback = "yes"', r"allow-runtime-fallback = 'yes': must be true or false"),
    ],
)
def test_pyproject_values_are_type_and_range_checked_naming_the_file_and_key(
    tmp_path: Path, line: str, words: str
) -> None:
    repo = make_repo(tmp_path, f"[tool.lambda-harness]\n{line}\n")
    where = str(repo / "pyproject.toml")
    with pytest.raises(ConfigError, match=rf"^{re.escape(where)} \[tool.lambda-harness\] {words}"):
        load_settings(repo, environ={})


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("LAMBDA_HARNESS_PORT", "abc", r"port = 'abc': must be an integer"),
        ("LAMBDA_HARNESS_PORT", "true", r"port = 'true': must be an integer"),
        ("LAMBDA_HARNESS_PORT", "0", r"port = '0': must be between 1 and 65535"),
        ("LAMBDA_HARNESS_MAX_CONCURRENCY", "2.9", r"max-concurrency = '2.9': must be an integer"),
        ("LAMBDA_HARNESS_TF_DRIVER", "tofu", r"tf-driver = 'tofu': must be one of terraform, tflocal"),
        ("LAMBDA_HARNESS_BACKEND", "aws", r"backend = 'aws': must be one of embedded, localstack"),
        ("LAMBDA_HARNESS_ALLOW_RUNTIME_FALLBACK", "maybe", r"allow-runtime-fallback = 'maybe': must be"),
    ],
)
def test_environment_values_are_checked_naming_the_variable(
    tmp_path: Path, name: str, value: str, words: str
) -> None:
    repo = make_repo(tmp_path)
    with pytest.raises(ConfigError, match=rf"^{name}: {words}"):
        load_settings(repo, environ={name: value})


def test_flag_values_are_range_checked_naming_the_flag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with pytest.raises(ConfigError, match=r"^--port: port = 0: must be between 1 and 65535"):
        load_settings(repo, cli={"port": 0}, environ={})
    with pytest.raises(ConfigError, match=r"^--backend: backend = 'aws': must be one of"):
        load_settings(repo, cli={"backend": "aws"}, environ={})


def test_settings_remember_where_each_value_came_from(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, '[tool.lambda-harness]\nregion = "eu-west-1"\n')
    s = load_settings(repo, cli={"port": 4999}, environ={"LAMBDA_HARNESS_HOST": "localhost"})
    assert s.source_of("port") == "--port"
    assert s.source_of("host") == "LAMBDA_HARNESS_HOST"
    assert s.source_of("region") == f"{repo / 'pyproject.toml'} [tool.lambda-harness] region"
    assert s.source_of("backend") == "the default"


def test_a_non_loopback_host_needs_the_users_own_opt_in(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with pytest.raises(ConfigError, match=r"^--host: host '10.0.0.5' is not a loopback address"):
        load_settings(repo, cli={"host": "10.0.0.5"}, environ={})
    by_env = load_settings(repo, cli={"host": "10.0.0.5"}, environ={"LAMBDA_HARNESS_ALLOW_NON_LOOPBACK": "1"})
    by_flag = load_settings(repo, cli={"host": "0.0.0.0", "allow_non_loopback": True}, environ={})
    assert by_env.allow_non_loopback and by_flag.allow_non_loopback
    assert load_settings(repo, cli={"host": "localhost"}, environ={}).host == "localhost"


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
    with pytest.raises(ConfigError, match=r"\[tool.lambda-harness\] tfvars = 3: must be a list"):
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


def test_skip_functions_is_a_list_from_pyproject_the_environment_or_repeated_flags(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, '[tool.lambda-harness]\nskip-functions = ["web", "legacy_java"]\n')
    assert load_settings(repo, environ={}).skip_functions == ("web", "legacy_java")
    env = {"LAMBDA_HARNESS_SKIP_FUNCTIONS": "a, b"}
    assert load_settings(repo, environ=env).skip_functions == ("a", "b")
    assert load_settings(repo, cli={"skip_functions": ["c"]}, environ=env).skip_functions == ("c",)
    (repo / "pyproject.toml").write_text('[tool.lambda-harness]\nskip-functions = "web"\n')
    with pytest.raises(ConfigError, match=r"skip-functions = 'web': must be a list of strings, not a string"):
        load_settings(repo, environ={})
    (repo / "pyproject.toml").write_text("[tool.lambda-harness]\nskip-functions = [1]\n")
    with pytest.raises(ConfigError, match=r"skip-functions = \[1\]: must be a list of strings"):
        load_settings(repo, environ={})


def test_idempotency_waive_names_resource_attributes(tmp_path: Path) -> None:
    waive = (
        '["aws_cloudfront_distribution.cdn.default_cache_behavior", "module.m.aws_s3_bucket.b[\\"k\\"].tags"]'
    )
    repo = make_repo(tmp_path, f"[tool.lambda-harness]\nidempotency-waive = {waive}\n")
    assert load_settings(repo, environ={}).idempotency_waive == (
        "aws_cloudfront_distribution.cdn.default_cache_behavior",
        'module.m.aws_s3_bucket.b["k"].tags',
    )
    (repo / "pyproject.toml").write_text('[tool.lambda-harness]\nidempotency-waive = ["aws_s3_bucket.b"]\n')
    with pytest.raises(ConfigError, match=r"idempotency-waive = \['aws_s3_bucket.b'\]: .*an attribute"):
        load_settings(repo, environ={})


def test_iam_is_enforce_by_default_and_set_like_every_setting(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert load_settings(make_repo(plain), environ={}).iam == "enforce"
    repo = make_repo(tmp_path, '[tool.lambda-harness]\niam = "warn"\n')
    assert load_settings(repo, environ={}).iam == "warn"
    assert load_settings(repo, environ={"LAMBDA_HARNESS_IAM": "off"}).iam == "off"
    assert load_settings(repo, cli={"iam": "enforce"}, environ={"LAMBDA_HARNESS_IAM": "off"}).iam == "enforce"
    with pytest.raises(
        ConfigError, match="LAMBDA_HARNESS_IAM: iam = 'strict': must be one of enforce, warn, off"
    ):
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
    wanted = r"\[tool.lambda-harness\] coverage = 'lines': must be one of off, line, branch \(or true/false\)"
    with pytest.raises(ConfigError, match=wanted):
        load_settings(repo, environ={})


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("coverage = 1", "coverage = 1: must be one of off, line, branch"),
        ("warm = 1", "warm = 1: must be true or false, not an integer"),
        ('fail-on-memory-headroom = "2"', "fail-on-memory-headroom = '2': must be a number, not a string"),
        ("fail-on-memory-headroom = true", "fail-on-memory-headroom = true: must be a number, not a boolean"),
        (
            "fail-on-memory-headroom = 0.5",
            "fail-on-memory-headroom = 0.5: must be a factor between 1 and 100",
        ),
        ("fail-on-timeout-ratio = 0", "fail-on-timeout-ratio = 0: must be above 0 and at most 1"),
        ("fail-on-timeout-ratio = 1.5", "fail-on-timeout-ratio = 1.5: must be above 0 and at most 1"),
    ],
)
def test_coverage_warm_and_the_advice_thresholds_are_typed_and_ranged(
    tmp_path: Path, toml: str, words: str
) -> None:
    repo = make_repo(tmp_path, f"[tool.lambda-harness]\n{toml}\n")
    with pytest.raises(
        ConfigError, match=re.escape(f"{repo / 'pyproject.toml'} [tool.lambda-harness] {words}")
    ):
        load_settings(repo, environ={})


def test_the_advice_thresholds_from_the_environment(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "[tool.lambda-harness]\nfail-on-memory-headroom = 2\n")
    assert load_settings(repo, environ={}).fail_on_memory_headroom == 2.0
    env = {"LAMBDA_HARNESS_FAIL_ON_TIMEOUT_RATIO": "0.8", "LAMBDA_HARNESS_FAIL_ON_MEMORY_HEADROOM": "1.5"}
    s = load_settings(repo, environ=env)
    assert (s.fail_on_timeout_ratio, s.fail_on_memory_headroom) == (0.8, 1.5)
    with pytest.raises(
        ConfigError, match=r"^LAMBDA_HARNESS_FAIL_ON_TIMEOUT_RATIO: fail-on-timeout-ratio = 'nan': "
    ):
        load_settings(repo, environ={"LAMBDA_HARNESS_FAIL_ON_TIMEOUT_RATIO": "nan"})
    assert load_settings(repo, cli={"warm": False}, environ={"LAMBDA_HARNESS_WARM": "1"}).warm is False


def test_workspace_setting_else_the_callers_tf_workspace(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    assert load_settings(repo, environ={}).workspace is None
    from_tf = load_settings(repo, environ={"TF_WORKSPACE": "qa"})
    assert (from_tf.workspace, from_tf.source_of("workspace")) == ("qa", "TF_WORKSPACE")
    (tmp_path / "p").mkdir()
    make_repo(tmp_path / "p", '[tool.lambda-harness]\nworkspace = "dev"\n')
    assert load_settings(tmp_path / "p", environ={"TF_WORKSPACE": "qa"}).workspace == "dev"
    env = {"TF_WORKSPACE": "qa", "LAMBDA_HARNESS_WORKSPACE": "prod"}
    assert load_settings(tmp_path / "p", environ=env).workspace == "prod"
    assert load_settings(tmp_path / "p", {"workspace": "stage"}, env).workspace == "stage"
    with pytest.raises(ConfigError, match="--workspace: workspace = 'a/b': must be a Terraform workspace"):
        load_settings(repo, {"workspace": "a/b"}, {})


def test_the_project_is_found_from_a_subfolder_as_git_finds_its_root(tmp_path: Path) -> None:
    from lambda_harness.settings import find_project

    (tmp_path / "repo").mkdir()
    repo = make_repo(tmp_path / "repo")
    (repo / ".git").mkdir()
    (repo / "terraform" / "modules").mkdir()
    assert find_project(repo / "terraform" / "modules") == repo
    assert find_project(repo) == repo
    tf_root = tmp_path / "root-module"
    (tf_root / "lambda").mkdir(parents=True)
    (tf_root / "pyproject.toml").write_text('[tool.lambda-harness]\nterraform = "."\n')
    assert find_project(tf_root / "lambda") == tf_root
    lone = tmp_path / "lone" / "sub"
    lone.mkdir(parents=True)
    (tmp_path / "lone" / ".git").mkdir()
    assert find_project(lone) == lone  # nothing up to the git root: the folder itself
