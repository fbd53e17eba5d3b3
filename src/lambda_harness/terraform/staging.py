"""Stage a copy of the team's terraform/ folder that Terraform may freely write into.

Layout under ``.harness/tf/<backend>/``::

    cli.tfrc               the harness's Terraform CLI config (provider mirrors)
    home/                  HOME for terraform: empty AWS config, no real ~/.aws
    terraform.tfstate      local state of the harness deployment
    tree/                  mirrors the project root:
      dists.zip -> <project>/dists.zip       (a symlink per root entry ...)
      functions -> <project>/functions
      terraform/                            (... except the terraform folder: a copy)
        main.tf ...
        zz_lambda_harness_override.tf        backend "local" at ../../terraform.tfstate
        .terraform/                          kept between runs (providers, modules)

Relative paths in the configuration (``${path.module}/../dists.zip``, ``../modules/x``)
resolve exactly as in the real repo, while the real terraform/ folder is only read.
The override file replaces whatever backend the team declares (``s3``, ``remote``
or none): the real state is never read or written.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.errors import ConfigError, TerraformError
from lambda_harness.paths import HarnessPaths

OVERRIDE_NAME = "zz_lambda_harness_override.tf"
TFLOCAL_OVERRIDE = "localstack_providers_override.tf"
# Never copied from the real folder: Terraform's own working data and any state or plan.
_SKIP_NAMES = {".terraform", ".terraform.tfstate.lock.info", TFLOCAL_OVERRIDE, OVERRIDE_NAME}
_SKIP_SUFFIXES = (".tfstate", ".tfstate.backup", ".tfplan")
# Kept in the staged folder between runs.
_KEEP = {".terraform"}


@dataclass(frozen=True)
class StagedDir:
    """Where a staged run lives; see the module docstring for the layout."""

    root: Path
    tree: Path
    workdir: Path
    state: Path
    cli_config: Path
    home: Path


def layout(
    harness_dir: Path, backend: str, project_dir: Path, terraform_dir: Path, *, root: Path | None = None
) -> StagedDir:
    """Paths of the staged copy for ``backend`` (nothing is created); ``root`` another place for
    it (the world's, ``HarnessPaths.world_root``)."""
    root = root or HarnessPaths(harness_dir).tf_root(backend)
    tree = root / "tree"
    return StagedDir(
        root=root,
        tree=tree,
        workdir=tree / _relative_terraform_dir(project_dir, terraform_dir),
        state=root / "terraform.tfstate",
        cli_config=root / "cli.tfrc",
        home=root / "home",
    )


def _anchor(project_dir: Path, terraform_dir: Path) -> Path:
    """The folder the tree mirrors: the project, or terraform/'s parent when it is not below the project."""
    tf, project = terraform_dir.resolve(), project_dir.resolve()
    if tf != project and tf.is_relative_to(project):
        return project
    # terraform/ outside the project (or the project itself): mirror its parent, so ``..`` still works.
    return tf.parent


def _relative_terraform_dir(project_dir: Path, terraform_dir: Path) -> Path:
    return terraform_dir.resolve().relative_to(_anchor(project_dir, terraform_dir))


def check_no_tflocal_leftover(terraform_dir: Path) -> None:
    """Refuse a real terraform/ folder holding tflocal's provider override (endpoints to localhost)."""
    leftover = terraform_dir / TFLOCAL_OVERRIDE
    if leftover.exists():
        raise TerraformError(
            f"{leftover}: left over by an interrupted tflocal run (or tflocal with DRY_RUN=1). It points "
            "every AWS service at a local endpoint and would break a real deploy; the harness never writes "
            "it there. "
            f"Fix: delete {leftover} (after checking it is not yours)."
        )


def stage(project_dir: Path, terraform_dir: Path, staged: StagedDir) -> None:
    """(Re)build the staged tree from the real folders, keeping ``.terraform/``."""
    if not terraform_dir.is_dir():
        raise ConfigError(
            f"terraform folder {terraform_dir} does not exist; set terraform = '...' in "
            "[tool.lambda-harness] or LAMBDA_HARNESS_TERRAFORM"
        )
    check_no_tflocal_leftover(terraform_dir)
    anchor = _anchor(project_dir, terraform_dir)
    staged.tree.mkdir(parents=True, exist_ok=True)
    _link_siblings(anchor.resolve(), terraform_dir.resolve(), staged.tree, staged.root)
    _clear(staged.workdir)
    _copy_config(terraform_dir, staged.workdir)
    write_override(staged)


def _link_siblings(anchor: Path, terraform_dir: Path, tree: Path, harness_root: Path) -> None:
    """Along anchor -> terraform_dir, make real folders and symlink every other entry."""
    src, dst = anchor, tree
    for part in terraform_dir.relative_to(anchor).parts:
        wanted = {e.name for e in src.iterdir() if e.name != part and not _is_harness(e, harness_root)}
        for entry in list(dst.iterdir()):
            if entry.name != part and (entry.name not in wanted or not entry.is_symlink()):
                _remove(entry)
        for name in sorted(wanted):
            link = dst / name
            if not link.is_symlink() or link.readlink() != src / name:
                _remove(link)
                link.symlink_to(src / name)
        src, dst = src / part, dst / part
        if dst.is_symlink() or (dst.exists() and not dst.is_dir()):
            _remove(dst)
        dst.mkdir(exist_ok=True)


def _is_harness(entry: Path, harness_root: Path) -> bool:
    # Linking .harness into itself would make a loop for anything that walks the tree.
    return entry.name == ".harness" or harness_root.resolve().is_relative_to(entry.resolve())


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _clear(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for entry in workdir.iterdir():
        if entry.name not in _KEEP:
            _remove(entry)


def _skipped(name: str) -> bool:
    return name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES)


def _copy_config(src: Path, dst: Path) -> None:
    """Copy every file and folder of terraform/ except Terraform's working data and state."""
    for entry in sorted(src.iterdir()):
        if _skipped(entry.name):
            continue
        target = dst / entry.name
        if entry.is_dir():
            shutil.copytree(
                entry, target, symlinks=True, ignore=lambda _d, names: [n for n in names if _skipped(n)]
            )
        else:
            shutil.copy2(entry, target)


def strip_lock_hashes(lock: Path) -> bool:
    """Remove ``hashes = [...]`` from a (staged) lock file; True when something was removed."""
    if not lock.is_file():
        return False
    text = lock.read_text(encoding="utf-8")
    stripped = re.sub(r"\n[ \t]*hashes[ \t]*=[ \t]*\[[^\]]*\]", "", text)
    if stripped == text:
        return False
    lock.write_text(stripped, encoding="utf-8")
    return True


def override_text(state_path: Path) -> str:
    """The backend override: local state under .harness/, whatever the team's backend is."""
    quoted = str(state_path).replace("\\", "\\\\").replace('"', '\\"')
    return (
        "# Written by lambda-harness in its staged copy only; the real terraform/ folder is never changed.\n"
        "# It replaces the team's backend so the real state is never read or written.\n"
        "terraform {\n"
        '  backend "local" {\n'
        f'    path = "{quoted}"\n'
        "  }\n"
        "}\n"
    )


def write_override(staged: StagedDir) -> None:
    """Write ``zz_lambda_harness_override.tf`` (``zz`` so it merges after any other override)."""
    (staged.workdir / OVERRIDE_NAME).write_text(override_text(staged.state.resolve()), encoding="utf-8")
