"""The registry-free base image: cache key, debootstrap command, extra CA certificates."""

from __future__ import annotations

from pathlib import Path

from compose_proof.baseimage import BaseSpec, debootstrap_args, extra_certificates


def test_the_key_follows_the_content_not_the_mirror_or_the_include_order() -> None:
    spec = BaseSpec()
    assert spec.key == BaseSpec(mirror="http://mirror.example/debian").key
    assert spec.key == BaseSpec(include=tuple(reversed(spec.include))).key
    assert spec.key != BaseSpec(include=(*spec.include, "curl")).key
    assert spec.key != BaseSpec(suite="trixie").key


def test_tag_and_tarball_carry_the_key(tmp_path: Path) -> None:
    spec = BaseSpec()
    assert spec.tag == f"local/bookworm-python:{spec.key}"
    assert spec.tarball(tmp_path) == tmp_path / "base" / f"bookworm-{spec.key}.tar"


def test_debootstrap_is_minbase_with_python_and_ca_certificates(tmp_path: Path) -> None:
    args = debootstrap_args(BaseSpec(), tmp_path / "rootfs")
    assert args[1] == "--variant=minbase"
    included = args[2].removeprefix("--include=").split(",")
    assert {"python3", "python3-venv", "ca-certificates"} <= set(included)
    assert args[-3:] == ["bookworm", str(tmp_path / "rootfs"), "http://deb.debian.org/debian"]


def _pem(body: str) -> str:
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----"


def test_extra_certificates_are_those_the_image_lacks_ignoring_line_breaks() -> None:
    host = [_pem("AAAA\nBBBB"), _pem("PROXY"), _pem("PROXY")]
    image = [_pem("AAAABBBB")]
    assert extra_certificates(host, image) == [_pem("PROXY")]


def test_no_extra_certificates_when_the_host_trusts_nothing_more() -> None:
    assert extra_certificates([_pem("A")], [_pem("A"), _pem("B")]) == []
