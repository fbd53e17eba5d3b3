"""Providers the mirror cannot serve: one message at the first command, naming file, construct, fix."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from support.realrepos import cli_env, copy_repo, run_cli

pytestmark = pytest.mark.slow


def test_missing_providers_are_listed_in_one_error_by_build(tmp_path: Path) -> None:
    """build reads this repo statically, yet stops at them (follow-up 10), before building anything."""
    repo = copy_repo("other_providers", tmp_path / "other_providers")
    ran = run_cli(repo, "build")
    assert ran.returncode != 0, str(ran)
    assert not (repo / "dists.zip").exists()
    error = ran.output[ran.output.index("error:") :]
    assert error.count("error:") == 1, str(ran)
    assert "3 provider(s) are not in the local mirror(s) and registry.terraform.io cannot be reached" in error
    assert "hashicorp/random ~> 3.6 (terraform/versions.tf:7)" in error  # the entry, not the block
    assert "laid out as" not in error  # the fix command makes the layout; no aws-specific paragraph
    assert "hashicorp/null any version (terraform/main.tf:9)" in error
    assert "hashicorp/time any version (terraform/modules/warmup/main.tf:6)" in error
    assert "terraform providers mirror -platform=linux_" in error
    assert "Traceback" not in ran.output


def test_build_without_terraform_leaves_the_provider_check_to_run(tmp_path: Path) -> None:
    """The compose build container has no terraform: build says so and builds (run's init checks)."""
    repo = copy_repo("other_providers", tmp_path / "other_providers")
    env = {**cli_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}/bin"}
    ran = run_cli(repo, "build", env=env)
    assert ran.returncode == 0, str(ran)
    assert "no terraform on PATH to install it; run's terraform init checks it" in ran.output
    assert "hashicorp/null, hashicorp/random, hashicorp/time" in ran.output
    assert (repo / "dists.zip").is_file()


def test_an_unsatisfiable_pin_names_the_pin_and_the_mirror(tmp_path: Path) -> None:
    repo = copy_repo("provider_pin", tmp_path / "provider_pin")
    ran = run_cli(repo, "run")
    assert ran.returncode != 0, str(ran)
    assert "terraform/versions.tf:4: pins hashicorp/aws ~> 4.8.0; the mirror(s) have 5.100.0" in ran.output
    assert "widen the pin to accept 5.100.0" in ran.output


def test_a_runtime_the_provider_rejects_stops_the_first_command(tmp_path: Path) -> None:
    repo = copy_repo("python314", tmp_path / "python314")
    ran = run_cli(repo, "run")
    assert ran.returncode != 0, str(ran)
    assert (
        "terraform/main.tf:23: runtime python3.14 is not accepted by hashicorp/aws 5.100.0 "
        "(its newest Python runtime is python3.13). Fix: put hashicorp/aws >= 6.20.0 in the provider mirror"
    ) in ran.output
    assert "or use python3.13" in ran.output
    assert not (repo / "dists.zip").exists()  # stopped before building anything
