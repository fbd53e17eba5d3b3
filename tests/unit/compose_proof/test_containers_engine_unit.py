"""The private engine's command line, environment and mount bookkeeping (no daemon)."""

from __future__ import annotations

from pathlib import Path

from compose_proof.engine import (
    MAX_SOCKET_PATH,
    Engine,
    dockerd_args,
    engine_dirs,
    mounts_under,
)
from lambda_harness.ui import PlainUI

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
90 27 0:4 net:[4026532] /tmp/lh-x/engine/exec/netns/default rw - nsfs nsfs rw
91 27 0:50 / /tmp/lh-x/engine/data/overlay2/abc/merged rw - overlay overlay rw
92 27 0:51 / /tmp/lh-x/with\\040space rw - tmpfs tmpfs rw
93 27 0:52 / /tmp/lh-xy/not-ours rw - tmpfs tmpfs rw
94 27 0:53 / /tmp/lh-x rw - tmpfs tmpfs rw
"""


def test_mounts_under_finds_only_our_root_deepest_first() -> None:
    found = mounts_under(Path("/tmp/lh-x"), MOUNTINFO)
    assert set(found) == {
        Path("/tmp/lh-x/engine/exec/netns/default"),
        Path("/tmp/lh-x/engine/data/overlay2/abc/merged"),
        Path("/tmp/lh-x/with space"),
        Path("/tmp/lh-x"),
    }
    depths = [len(p.parts) for p in found]
    assert depths == sorted(depths, reverse=True)
    assert found[-1] == Path("/tmp/lh-x")


def test_mounts_under_a_root_with_nothing_mounted_is_empty() -> None:
    assert mounts_under(Path("/srv/elsewhere"), MOUNTINFO) == []


def test_dockerd_never_touches_the_host_network_and_keeps_all_state_under_its_root(tmp_path: Path) -> None:
    args = dockerd_args(engine_dirs(tmp_path))
    for flag in (
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-forward=false",
        "--ip-masq=false",
    ):
        assert flag in args
    dirs = engine_dirs(tmp_path)
    paths = [
        a.split("=", 1)[1].removeprefix("unix://")
        for a in args
        if a.startswith(("--data-root", "--exec-root", "--pidfile", "--config-file", "--host"))
    ]
    assert len(paths) == 5
    assert all(Path(p).is_relative_to(tmp_path) or Path(p).is_relative_to(dirs.run) for p in paths)


def test_engine_env_points_clients_at_this_engine_and_drops_host_docker_settings(tmp_path: Path) -> None:
    engine = Engine(tmp_path, PlainUI())
    env = engine.env({"DOCKER_HOST": "tcp://elsewhere:2376", "DOCKER_CONTEXT": "prod", "PATH": "/bin"})
    assert env["DOCKER_HOST"] == f"unix://{engine.dirs.socket}"
    assert env["DOCKER_CONFIG"] == str(tmp_path / "client-config")
    assert "DOCKER_CONTEXT" not in env
    assert env["PATH"] == "/bin"


def test_stopping_an_engine_that_never_started_is_harmless(tmp_path: Path) -> None:
    assert Engine(tmp_path, PlainUI()).stop() == []


def test_a_deep_root_gets_its_sockets_in_a_short_folder(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["x" * 20] * 5))
    dirs = engine_dirs(deep, short_base=Path("/tmp"))
    assert dirs.run.parent == Path("/tmp") and dirs.run_is_separate
    assert dirs.run == engine_dirs(deep).run  # the same root always gets the same folder
    assert dirs.data_root.is_relative_to(deep)
    assert len(str(dirs.exec_root / "containerd" / "containerd-debug.sock")) <= MAX_SOCKET_PATH


def test_a_short_root_keeps_everything_inside_it() -> None:
    dirs = engine_dirs(Path("/tmp/lh-proof-abc/engine"))
    assert dirs.run == Path("/tmp/lh-proof-abc/engine/run")
    assert not dirs.run_is_separate
