"""A base image without a container registry: debootstrap, tar, import.

Where no registry is reachable (only Debian's mirror and PyPI), the proof
builds ``local/bookworm-python:<key>`` from ``debootstrap --variant=minbase``
and passes it as ``BASE_IMAGE`` to both Dockerfiles. The root file system is
cached as a tarball keyed by everything that changes its content, so only the
first run pays for debootstrap (~30 s); the engine's data root is thrown away
after every run, and ``docker import`` of the cached tarball takes seconds.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from compose_proof.engine import unmount_under
from lambda_harness import proc
from lambda_harness.errors import ContainerError
from lambda_harness.ui import UI

DEBOOTSTRAP = "/usr/sbin/debootstrap"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# What both Dockerfiles need from the base: a Python >= 3.11 that can make a venv, and TLS roots for pip.
DEFAULT_INCLUDE = ("python3", "python3-venv", "python3-pip", "ca-certificates")
# Image metadata a registry image would carry; `docker import` starts from nothing.
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
)
# Caches and logs from the install; nothing in the image needs them.
ROOTFS_JUNK = ("var/cache/apt/archives", "var/lib/apt/lists", "var/log", "var/cache/debconf")


@dataclass(frozen=True)
class BaseSpec:
    """What goes into the base image; ``key`` changes whenever the content would."""

    suite: str = "bookworm"
    variant: str = "minbase"
    include: tuple[str, ...] = DEFAULT_INCLUDE
    arch: str = ""  # "" = the host's, as debootstrap picks it
    mirror: str = DEFAULT_MIRROR  # where from; not part of the key (same archive, same content)

    @property
    def key(self) -> str:
        ident = {
            "suite": self.suite,
            "variant": self.variant,
            "include": sorted(self.include),
            "arch": self.arch or platform.machine(),
            "changes": list(IMPORT_CHANGES),
        }
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def repository(self) -> str:
        return f"local/{self.suite}-python"

    @property
    def tag(self) -> str:
        return f"{self.repository}:{self.key}"

    def tarball(self, cache_dir: Path) -> Path:
        """Where the root file system tarball is cached."""
        return cache_dir / "base" / f"{self.suite}-{self.key}.tar"


def debootstrap_args(spec: BaseSpec, target: Path, debootstrap: str = DEBOOTSTRAP) -> list[str]:
    """The debootstrap command line for ``spec`` into ``target``."""
    args = [debootstrap, f"--variant={spec.variant}", f"--include={','.join(spec.include)}"]
    if spec.arch:
        args.append(f"--arch={spec.arch}")
    return [*args, spec.suite, str(target), spec.mirror]


def build_tarball(spec: BaseSpec, cache_dir: Path, ui: UI) -> Path:
    """The cached rootfs tarball for ``spec``, running debootstrap if it is not there yet."""
    final = spec.tarball(cache_dir)
    if final.is_file():
        return final
    if not Path(DEBOOTSTRAP).exists():
        raise ContainerError(f"{DEBOOTSTRAP} not found; install it: apt-get install debootstrap")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lh-rootfs-", dir=final.parent))
    try:
        rootfs = work / "rootfs"
        with ui.step(f"debootstrap {spec.suite} ({', '.join(spec.include)})"):
            proc.run(debootstrap_args(spec, rootfs), timeout=1200, hint=f"mirror: {spec.mirror}")
        for junk in ROOTFS_JUNK:
            _empty_folder(rootfs / junk)
        partial = work / "rootfs.tar"
        with ui.step(f"tar the root file system -> {final}"):
            proc.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], timeout=600)
        partial.replace(final)  # atomic: a concurrent run sees all of it or none
    finally:
        # debootstrap mounts /proc and /sys inside the target while it works; a failed run leaves them.
        unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)
    return final


def _empty_folder(folder: Path) -> None:
    """Delete a folder's contents but keep the folder (apt expects it to exist)."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def ensure_image(
    client: docker.DockerClient,
    spec: BaseSpec,
    cache_dir: Path,
    ui: UI,
    *,
    host_ca_bundle: Path | None = None,
) -> str:
    """The base image's tag: the cached tarball imported, plus the host's extra CAs if any.

    ``host_ca_bundle`` (e.g. /etc/ssl/certs/ca-certificates.crt) matters behind a
    TLS-inspecting proxy: certificates the host trusts and Debian's bundle lacks
    are added in one small layer, so pip in the images reaches PyPI like the host.
    """
    tag = _import_base(client, spec, cache_dir, ui)
    if host_ca_bundle is None or not host_ca_bundle.is_file():
        return tag
    extra = extra_certificates(
        _pems(host_ca_bundle.read_text(encoding="utf-8", errors="replace")),
        _pems(_bundle_in_tarball(spec.tarball(cache_dir))),
    )
    if not extra:
        return tag
    return _with_certificates(client, tag, extra, ui)


def _import_base(client: docker.DockerClient, spec: BaseSpec, cache_dir: Path, ui: UI) -> str:
    try:
        client.images.get(spec.tag)
        return spec.tag
    except docker.errors.ImageNotFound:
        pass
    tarball = build_tarball(spec, cache_dir, ui)
    with ui.step(f"docker import {tarball.name} as {spec.tag}"):
        try:
            client.api.import_image_from_file(
                str(tarball), repository=spec.repository, tag=spec.key, changes=list(IMPORT_CHANGES)
            )
            client.images.get(spec.tag)
        except docker.errors.APIError as exc:
            raise ContainerError(
                f"docker import of {tarball} failed: {exc}; delete the file to rebuild it"
            ) from exc
    return spec.tag


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
BUNDLE_IN_IMAGE = "./etc/ssl/certs/ca-certificates.crt"


def _pems(text: str) -> list[str]:
    return _PEM.findall(text)


def extra_certificates(host: list[str], image: list[str]) -> list[str]:
    """PEM certificates in ``host`` that ``image`` lacks (whitespace-insensitive), in host order."""
    known = {"".join(pem.split()) for pem in image}
    out: list[str] = []
    for pem in host:
        key = "".join(pem.split())
        if key not in known:
            known.add(key)
            out.append(pem)
    return out


def _bundle_in_tarball(tarball: Path) -> str:
    """The CA bundle inside the cached root file system (empty if it has none)."""
    with tarfile.open(tarball) as tar:
        try:
            member = tar.extractfile(BUNDLE_IN_IMAGE)
        except KeyError:
            return ""
        return member.read().decode("utf-8", "replace") if member is not None else ""


def _with_certificates(client: docker.DockerClient, base: str, pems: list[str], ui: UI) -> str:
    """``base`` plus ``pems`` in /usr/local/share/ca-certificates (Debian's way), tagged by their hash."""
    digest = hashlib.sha256("".join(pems).encode()).hexdigest()[:8]
    tag = f"{base}-ca{digest}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    dockerfile = f"FROM {base}\nCOPY *.crt /usr/local/share/ca-certificates/\nRUN update-ca-certificates\n"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        files = {"Dockerfile": dockerfile}
        files.update({f"host-extra-{i}.crt": pem + "\n" for i, pem in enumerate(pems)})
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    with ui.step(f"trust the host's {len(pems)} extra CA certificate(s) in {tag}"):
        try:
            client.images.build(fileobj=context, custom_context=True, tag=tag, network_mode="none", rm=True)
        except docker.errors.BuildError as exc:
            raise ContainerError(f"adding the host's CA certificates to {base} failed: {exc}") from exc
    return tag
