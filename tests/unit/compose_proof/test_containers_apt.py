"""Package installs never start a service: the policy-rc.d guard."""

from __future__ import annotations

from pathlib import Path

from compose_proof.apt import (
    DOCKER_NEEDS,
    POLICY_FORBID,
    Need,
    apt_env,
    missing_packages,
    services_forbidden,
)


def test_missing_packages_lists_each_package_once_in_order() -> None:
    present = {"/usr/sbin/debootstrap"}
    assert missing_packages(DOCKER_NEEDS, exists=present.__contains__) == ["docker.io", "docker-compose"]


def test_nothing_is_missing_when_every_program_is_there() -> None:
    assert missing_packages([Need("x", "x-pkg", "/opt/x")], exists=lambda p: True) == []


def test_policy_is_written_for_the_install_and_removed_after(tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    with services_forbidden(policy):
        assert policy.read_text() == POLICY_FORBID
        assert policy.stat().st_mode & 0o111
    assert not policy.exists()


def test_a_permissive_policy_is_replaced_during_the_install_and_restored_after(tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 0\n")
    with services_forbidden(policy):
        assert policy.read_text().rstrip().endswith("exit 101")
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"


def test_an_existing_forbidding_policy_is_left_alone(tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    original = "#!/bin/sh\n\n# the image's own\n\nexit 101\n"
    policy.write_text(original)
    with services_forbidden(policy):
        assert policy.read_text() == original
    assert policy.read_text() == original


def test_the_policy_is_restored_when_the_install_fails(tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    try:
        with services_forbidden(policy):
            raise RuntimeError("apt failed")
    except RuntimeError:
        pass
    assert not policy.exists()


def test_apt_never_asks_questions() -> None:
    env = apt_env({"PATH": "/usr/bin"})
    assert env["DEBIAN_FRONTEND"] == "noninteractive"
    assert env["PATH"] == "/usr/bin"
