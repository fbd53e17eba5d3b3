"""The one safe tree walk (issue 9, item 3): what the harness packs or copies never comes from
outside the folder it walks. A symlink that resolves outside fails naming the link and its target;
one that resolves inside is read as its target's content; each real folder is walked once."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.fsutil import LinkOutside, walk_files


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "functions"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text("A = 1\n")
    (root / "shared").mkdir()
    (root / "shared" / "util.py").write_text("U = 1\n")
    return root


def listing(root: Path) -> dict[str, bytes]:
    return {rel: path.read_bytes() for rel, path in walk_files(root)}


def test_plain_files_are_listed_with_posix_paths(tmp_path: Path) -> None:
    assert listing(tree(tmp_path)) == {"pkg/app.py": b"A = 1\n", "shared/util.py": b"U = 1\n"}


def test_links_inside_are_read_as_their_targets_content_each_real_folder_once(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / "pkg" / "util.py").symlink_to("../shared/util.py")
    (root / "loop").symlink_to(root)
    found = listing(root)
    assert found["pkg/util.py"] == b"U = 1\n"
    assert not [name for name in found if name.startswith("loop/")]


@pytest.mark.parametrize("kind", ["file", "folder", "relative", "dangling", "nested"])
def test_a_link_resolving_outside_fails_naming_the_link_and_its_target(tmp_path: Path, kind: str) -> None:
    root = tree(tmp_path)
    secret = tmp_path / "home" / ".aws"
    secret.mkdir(parents=True)
    (secret / "credentials").write_text("[default]\naws_secret_access_key = real\n")
    link, target = {
        "file": (root / "pkg" / "creds", secret / "credentials"),
        "folder": (root / "vendored", secret),
        "relative": (root / "pkg" / "up", Path("../../home/.aws/credentials")),
        "dangling": (root / "gone.py", tmp_path / "nowhere.py"),
        "nested": (root / "shared" / "deep", secret),
    }[kind]
    link.symlink_to(target)
    with pytest.raises(LinkOutside) as info:
        listing(root)
    message = str(info.value)
    assert f"{link} -> {target}" in message
    assert f"resolves outside {root}" in message
    assert info.value.link == link


def test_a_link_the_filter_leaves_out_is_never_followed(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / ".venv").symlink_to(tmp_path)
    found = {rel for rel, _ in walk_files(root, keep=lambda p: not p.name.startswith("."))}
    assert found == {"pkg/app.py", "shared/util.py"}
