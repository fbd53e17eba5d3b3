"""Helpers for the terraform functional tests: tiny zips, tmp worker repos, a scrubbed-looking environ."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

from lambda_harness.settings import Settings, load_settings

PLUGIN_DIR = os.environ.get("LAMBDA_HARNESS_TF_PLUGIN_DIR", "/opt/tf-plugins")


def tiny_zip(body: str = "def handler(event, context):\n    return {'ok': True}\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("app.py", date_time=(1980, 1, 1, 0, 0, 0))
        zf.writestr(info, body)
    return buf.getvalue()


def harness_environ(**extra: str) -> dict[str, str]:
    """What a user's shell might hold, including real-looking credentials that must not leak."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LAMBDA_HARNESS_TF_PLUGIN_DIR": PLUGIN_DIR,
        "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY01",
        "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_PROFILE": "production",
        **extra,
    }


def make_settings(project: Path) -> Settings:
    return load_settings(project, {}, {"HOME": str(project)})


PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "terraform"
PROVIDER = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}
"""


def write_project(root: Path, files: dict[str, str], *, zip_bytes: bytes | None = None) -> Path:
    """A worker repo: terraform/<files> (a project under projects/ or given texts), dists.zip at the root."""
    tf = root / "terraform"
    tf.mkdir(parents=True)
    for name, text in files.items():
        (tf / name).write_text(text, encoding="utf-8")
    (root / "dists.zip").write_bytes(zip_bytes if zip_bytes is not None else tiny_zip())
    (root / "functions").mkdir()
    return root


def copy_project(name: str, root: Path) -> Path:
    """A worker repo whose terraform/ is a copy of tests/fixtures/terraform/<name>."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted((PROJECTS / name).glob("*.tf"))}
    if not files:
        raise FileNotFoundError(f"no .tf files in {PROJECTS / name}")
    return write_project(root, files)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (except .harness) by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".harness" not in p.relative_to(folder).parts
    }


REPOS = Path(__file__).resolve().parents[1] / "fixtures" / "repos"


def copy_repo(name: str, root: Path, *, drop: tuple[str, ...] = ()) -> Path:
    """A whole worker repo copied from tests/fixtures/repos/<name>, minus the ``drop`` paths."""
    shutil.copytree(REPOS / name, root)
    for relative in drop:
        target = root / relative
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    return root
