"""The compose wrapper's command lines (no process runs)."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.endpoint.compose import Compose


def test_plain_project_names_only_its_file(tmp_path: Path) -> None:
    flow = Compose(tmp_path, {})
    assert flow.argv("config", "--services") == [
        "docker",
        "compose",
        "--file",
        str(tmp_path / "docker-compose.yml"),
        "config",
        "--services",
    ]
    assert flow.describe() == f"docker compose --file {tmp_path / 'docker-compose.yml'}"


def test_project_name_and_profiles_come_before_the_subcommand(tmp_path: Path) -> None:
    flow = Compose(tmp_path, {}, "p1", profiles=("a", "b"), program=("/usr/bin/docker-compose",))
    assert flow.argv("down") == [
        "/usr/bin/docker-compose",
        "--file",
        str(tmp_path / "docker-compose.yml"),
        "--project-name",
        "p1",
        "--profile",
        "a",
        "--profile",
        "b",
        "down",
    ]
