"""Fidelity 6, the decision: AWS's layout where the kernel allows it, else host paths, said once."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.endpoint.runtime import boot
from lambda_harness.endpoint.runtime.env import Paths
from lambda_harness.endpoint.runtime.filesystem import choose
from lambda_harness.errors import ConfigError, EndpointError
from lambda_harness.settings import load_settings

DENIED = "unshare: Operation not permitted"


def test_auto_uses_awss_layout_when_the_probe_passes() -> None:
    assert choose("auto", check=lambda: None) == ("aws", None)


def test_auto_falls_back_and_names_the_reason_and_the_fix() -> None:
    view, note = choose("auto", check=lambda: DENIED)
    assert view == "host"
    assert note == (
        f'functions see host paths, not /var/task and /opt: {DENIED} (set filesystem = "host" to silence)'
    )


def test_aws_is_an_error_where_the_kernel_refuses() -> None:
    with pytest.raises(EndpointError, match=r'filesystem = "aws".*unshare: Operation not permitted.*"auto"'):
        choose("aws", check=lambda: DENIED)


def test_host_never_probes() -> None:
    def boom() -> str:
        raise AssertionError("probed")

    assert choose("host", check=boom) == ("host", None)


def test_the_setting_is_validated(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ={"LAMBDA_HARNESS_FILESYSTEM": "host"}).filesystem == "host"
    assert load_settings(tmp_path, environ={}).filesystem == "auto"
    with pytest.raises(ConfigError, match="filesystem 'docker' is not one of auto, aws, host"):
        load_settings(tmp_path, environ={"LAMBDA_HARNESS_FILESYSTEM": "docker"})


def test_the_bootstrap_is_told_the_real_folders_only_with_awss_layout() -> None:
    paths = Paths(Path("/w/code"), None, Path("/c/rt"), Path("/py/bin/python3.12"), (3, 12), view="aws")
    cfg = boot.config(paths, None, 600)
    sandbox = '"sandbox":{"task":"/w/code","runtime":"/c/rt","lang":"/py","opt":null,"tmp_mb":600,'
    assert f'{sandbox}"bootstrap":"/c/rt/{boot.versioned_name()}"}}' in cfg
    assert '"python":"/var/lang/bin/python3.12"' in cfg and '"translate":{}' in cfg
    host = boot.config(
        Paths(Path("/w/code"), None, Path("/c/rt"), Path("/py/bin/python3.12"), (3, 12)), None, 600
    )
    assert "sandbox" not in host and '"/var/task":"/w/code"' in host
