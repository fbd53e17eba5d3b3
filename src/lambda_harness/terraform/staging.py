"""Stage a copy of the team's Terraform that Terraform may freely write into.

Layout under ``.harness/tf/<backend>/``::

    cli.tfrc               the harness's Terraform CLI config (provider mirrors)
    home/                  HOME for terraform: empty AWS config, no real ~/.aws
    terraform.tfstate      local state of the harness deployment
    tree/                  mirrors the project root:
      dists.zip -> <project>/dists.zip       (a symlink per entry ...)
      functions -> <project>/functions
      terraform/                            (... except module folders: real folders)
        main.tf ...                          configuration files copied
        policy.json -> <project>/...         anything else linked
        modules/lambda/main.tf               a local module the root calls: copied too
        zz_lambda_harness_override.tf        backend "local" at ../../terraform.tfstate
        .terraform/                          kept between runs (providers, modules); the real
                                             folder's .terraform/modules is copied in (offline)

Only the root module and the local modules it calls (``source = "./x"``, ``"../x"``,
transitively) are copied: their ``*.tf``, ``*.tf.json``, ``*.tfvars`` and lock file, so the
harness can add override files beside them. Every other entry of the repo is a symlink,
read in place (``file()``, ``templatefile()``, zips). Never mirrored at any level:
``.harness/``, ``.git/`` and version-control/editor metadata (``.gitignore``, ``.github/``),
virtualenvs, caches, ``.terraform/`` and state files; a local
module outside the repo is an error. With ``terraform = "."`` the tree itself is the
root module.

Relative paths in the configuration (``${path.module}/../dists.zip``, ``../modules/x``)
resolve exactly as in the real repo, while the real files are only read.
The override file replaces whatever backend the team declares (``s3``, ``remote``
or none): the real state is never read or written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.errors import ConfigError, TerraformError
from lambda_harness.fsutil import (
    LinkOutside,
    make_private_tree,
    private_dir,
    write_private,
)
from lambda_harness.paths import HarnessPaths
from lambda_harness.terraform.overrides import (
    DISCOVERY_OVERRIDE_NAME,
    Neutralised,
    archive_local_names,
    archive_override_text,
    aws_provider_changes,
    discovery_override_text,
    providers_override_text,
)
from lambda_harness.terraform.sources import ModuleSource, module_tree

OVERRIDE_NAME = "zz_lambda_harness_override.tf"
TFLOCAL_OVERRIDE = "localstack_providers_override.tf"
# Never copied from the real folder: Terraform's own working data and any state or plan.
_SKIP_NAMES = {
    ".terraform",
    ".terraform.tfstate.lock.info",
    TFLOCAL_OVERRIDE,
    OVERRIDE_NAME,
    DISCOVERY_OVERRIDE_NAME,
}
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
    """The folder the tree mirrors: the project (also when it is the root module itself), or
    terraform/'s parent when terraform/ is outside the project."""
    tf, project = terraform_dir.resolve(), project_dir.resolve()
    if tf.is_relative_to(project):
        return project
    # terraform/ outside the project: mirror its parent, so ``..`` still works.
    return tf.parent


def anchor_of(project_dir: Path, terraform_dir: Path) -> Path:
    """The real folder the staged tree mirrors (``tree/<x>`` is ``anchor/<x>``)."""
    return _anchor(project_dir, terraform_dir)


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


@dataclass(frozen=True)
class StageOutcome:
    """What ``stage`` wrote into the override files."""

    neutralised: list[Neutralised]  # the provider settings neutralised (for the run to report)
    uses_archive: bool  # a module uses hashicorp/archive: the shim must be installed (``uses_archive``)


def stage(project_dir: Path, terraform_dir: Path, staged: StagedDir) -> StageOutcome:
    """(Re)build the staged tree from the real folders, keeping the root module's ``.terraform/``."""
    if not terraform_dir.is_dir():
        raise ConfigError(
            f"terraform folder {terraform_dir} does not exist; set terraform = '...' in "
            "[tool.lambda-harness] or LAMBDA_HARNESS_TERRAFORM"
        )
    check_no_tflocal_leftover(terraform_dir)
    anchor = _anchor(project_dir, terraform_dir)
    modules = module_folders(anchor, terraform_dir.resolve(), project_dir)
    private_dir(staged.tree)
    _Mirror(staged, modules, anchor).sync(anchor, staged.tree)
    copy_installed_modules(terraform_dir, staged.workdir)
    return write_overrides(staged, anchor, modules, terraform_dir.resolve())


def copy_installed_modules(terraform_dir: Path, workdir: Path) -> bool:
    """Copy the registry and git modules a ``terraform init``/``get`` installed in the real folder
    (``.terraform/modules`` with its ``modules.json``) into the staged copy, so ``init`` there
    reuses them instead of downloading (offline it cannot). True when something was copied.

    Copied only when the staged copy's ``modules.json`` differs (init leaves an up-to-date one
    alone); symlinks are copied as links, never followed; version-control folders are left out.
    """
    real = terraform_dir / ".terraform" / "modules"
    manifest = real / "modules.json"
    if real.is_symlink() or not manifest.is_file():
        return False
    target = workdir / ".terraform" / "modules"
    staged_manifest = target / "modules.json"
    if staged_manifest.is_file() and staged_manifest.read_bytes() == manifest.read_bytes():
        return False
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    private_dir(target.parent)
    shutil.copytree(real, target, symlinks=True, ignore=shutil.ignore_patterns(".git", ".hg", ".svn"))
    make_private_tree(target)  # the copy is the harness's alone (the sources may be 0644)
    return True


def module_folders(anchor: Path, terraform_dir: Path, project_dir: Path) -> frozenset[Path]:
    """The root module and every local module it calls: the folders staged as copies.

    A local module outside the mirrored folder (the repo) cannot be reached from the staged
    copy: that is one ``ConfigError`` naming every such module and every call that uses it.
    """
    folders = module_tree(terraform_dir)
    outside = [folder for folder in folders[1:] if not folder.is_relative_to(anchor)]
    if not outside:
        return frozenset(folders)
    lines = []
    for folder in outside:
        calls = [
            f'{call.where(project_dir, "source")} (module "{call.labels[0]}")'
            for parent in folders
            for call, child in ModuleSource(parent).local_module_dirs()
            if child == folder
        ]
        where = ", ".join(calls) or str(folder)
        lines.append(f"{where}: the local module {folder} is outside the repo ({anchor})")
    raise ConfigError(
        "; ".join(lines) + ". The harness stages only the repo (its copy must reach every module by the "
        "same relative path, and promote ships the repo as tested). Move or vendor the module into the "
        "repo (a git submodule works), or call it by a registry or git address"
    )


# Never mirrored into the staged tree, at any level: the harness's own folder (linking it into
# itself makes a loop), version control, virtualenvs, caches and Terraform's working data.
_NEVER = frozenset(
    {
        ".harness",
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".nox",
        ".tox",
        "node_modules",
        ".terraform",
        # Version-control and editor metadata Terraform never reads; a linked .gitignore also
        # makes git warn ("Too many levels of symbolic links": it opens .gitignore files
        # without following links).
        ".gitignore",
        ".gitattributes",
        ".gitmodules",
        ".github",
        ".gitlab",
        ".gitlab-ci.yml",
        ".pre-commit-config.yaml",
        ".editorconfig",
        ".idea",
        ".vscode",
        ".DS_Store",
    }
)
# Copied (not linked) in a module folder: what Terraform reads as configuration, and the lock
# file it may rewrite. Everything else (templates, policies, zips) is linked and read in place.
_CONFIG_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
LOCK_FILE = ".terraform.lock.hcl"


def is_config_file(name: str) -> bool:
    """Whether a module folder's file is Terraform configuration (copied into the staged tree)."""
    return name.endswith(_CONFIG_SUFFIXES) or name == LOCK_FILE


class _Mirror:
    """Makes the staged tree: real folders down to each module folder, copies of the
    configuration files in module folders, symlinks for everything else."""

    def __init__(self, staged: StagedDir, modules: frozenset[Path], anchor: Path) -> None:
        self.staged = staged
        self.modules = modules
        self.anchor = anchor
        self.real_anchor = Path(os.path.realpath(anchor))

    def _leads_to_module(self, path: Path) -> bool:
        return any(m == path or m.is_relative_to(path) for m in self.modules)

    def _wanted(self, src: Path, is_module: bool) -> list[Path]:
        out = []
        for entry in sorted(src.iterdir()):
            if entry.name in _NEVER or _is_harness(entry, self.staged.root):
                continue
            if is_module and _skipped(entry.name):
                continue
            out.append(entry)
        return out

    def sync(self, src: Path, dst: Path) -> None:
        """Make ``dst`` mirror ``src`` (recursing towards module folders)."""
        is_module = src in self.modules
        wanted = self._wanted(src, is_module)
        names = {e.name for e in wanted}
        for entry in list(dst.iterdir()):
            if entry.name not in names and not (entry.name in _KEEP and dst == self.staged.workdir):
                _remove(entry)
        for entry in wanted:
            target = dst / entry.name
            if entry.is_dir() and self._leads_to_module(entry):
                if target.is_symlink() or (target.exists() and not target.is_dir()):
                    _remove(target)
                private_dir(target)
                self.sync(entry, target)
            elif is_module and entry.is_file() and is_config_file(entry.name):
                if target.is_symlink() or target.is_dir():
                    _remove(target)
                self._copy(entry, target)
            elif not target.is_symlink() or target.readlink() != entry:
                _remove(target)
                target.symlink_to(entry)

    def _copy(self, entry: Path, target: Path) -> None:
        """A configuration file, copied privately; a link is read as its target's content only
        when that resolves inside the repo (the same rule as ``fsutil.walk_files``)."""
        if not Path(os.path.realpath(entry)).is_relative_to(self.real_anchor):
            raise TerraformError(
                f"{LinkOutside(entry, self.anchor)}. The staged Terraform copy would carry it"
            )
        write_private(target, entry.read_bytes())


def _is_harness(entry: Path, harness_root: Path) -> bool:
    # Linking .harness into itself would make a loop for anything that walks the tree.
    return entry.name == ".harness" or harness_root.resolve().is_relative_to(entry.resolve())


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _skipped(name: str) -> bool:
    return name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES)


def make_private(workdir: Path) -> None:
    """The copy is the harness's own: folders 0700, files 0600/0700 (the sources may be 0644;
    terraform writes ``.terraform.lock.hcl`` 0644 whatever the umask). ``.terraform/`` and the
    links to the real repo are skipped."""
    make_private_tree(workdir, skip=_KEEP)


def strip_lock_hashes(lock: Path) -> bool:
    """Remove ``hashes = [...]`` from a (staged) lock file; True when something was removed."""
    if not lock.is_file():
        return False
    text = lock.read_text(encoding="utf-8")
    stripped = re.sub(r"\n[ \t]*hashes[ \t]*=[ \t]*\[[^\]]*\]", "", text)
    if stripped == text:
        return False
    write_private(lock, stripped)
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


def write_override(staged: StagedDir, extra: str = "") -> None:
    """Write ``zz_lambda_harness_override.tf`` (``zz`` so it merges after any other override)."""
    text = override_text(staged.state.resolve()) + (f"\n{extra}" if extra else "")
    write_private(staged.workdir / OVERRIDE_NAME, text)


def staged_folder(staged: StagedDir, anchor: Path, folder: Path) -> Path:
    """Where a real module folder is in the staged tree."""
    return staged.tree / folder.relative_to(anchor)


def write_discovery_overrides(project_dir: Path, terraform_dir: Path, staged: StagedDir) -> list[Path]:
    """Write the discovery override (``overrides.discovery_override_text``) into every staged
    module folder that needs one; returns the files written (``remove_files`` takes them away)."""
    anchor = _anchor(project_dir, terraform_dir)
    written = []
    for folder in sorted(module_folders(anchor, terraform_dir.resolve(), project_dir)):
        text = discovery_override_text(folder)
        target = staged_folder(staged, anchor, folder)
        if text and target.is_dir() and not target.is_symlink():
            path = target / DISCOVERY_OVERRIDE_NAME
            write_private(path, text)
            written.append(path)
    return written


def remove_files(paths: list[Path]) -> None:
    """Remove files the harness wrote into the staged copy (and folders it made for them, listed
    after their contents, when they are left empty)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)


def write_placeholder(staged: StagedDir, relative: str) -> list[Path]:
    """An empty stand-in for a zip the build has not made yet, at ``relative`` (as Terraform names it,
    from the staged working folder), so a discovery plan that hashes it can go on; returns what was
    created (for ``remove_files``), or [] when the place is not a plain folder of the staged copy
    (through a symlink it would be the team's repo: never written)."""
    target = Path(os.path.normpath(staged.workdir / relative))
    if target.suffix.lower() != ".zip" or not target.is_relative_to(staged.tree) or target == staged.tree:
        return []
    created: list[Path] = []
    folder = staged.tree
    for part in target.relative_to(staged.tree).parts[:-1]:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            return []
        if not folder.exists():
            folder.mkdir(mode=0o700)
            created.append(folder)
    if target.exists() or target.is_symlink():
        return []
    write_private(target, "")
    return [target, *reversed(created)]


def write_overrides(staged: StagedDir, anchor: Path, modules: frozenset[Path], root: Path) -> StageOutcome:
    """The root's override (backend + providers) and a provider override in each local module
    folder that declares ``provider "aws"`` blocks of its own (or uses hashicorp/archive)."""
    neutralised: list[Neutralised] = []
    archive_used = False
    for folder in sorted(modules):
        changes = aws_provider_changes(folder)
        neutralised += changes
        archive = archive_override_text(folder)
        archive_used = archive_used or bool(archive)
        text = "\n".join(t for t in (providers_override_text(changes), archive) if t)
        if folder == root:
            write_override(staged, text)
        elif text:
            target = staged_folder(staged, anchor, folder)
            if target.is_symlink() or not target.is_dir():  # never write into the real repo
                raise TerraformError(f"internal: staged module folder {target} is not a copy")
            write_private(target / OVERRIDE_NAME, text)
    return StageOutcome(neutralised, archive_used)


def uses_archive(project_dir: Path, terraform_dir: Path) -> bool:
    """Whether the root or a local module uses hashicorp/archive (the shim must be installed)."""
    return any(archive_local_names(folder) for folder in module_tree(terraform_dir.resolve()))


def stage_for_promote(project_dir: Path, terraform_dir: Path, staged: StagedDir, backend: str) -> None:
    """The staged copy the real init, plan and apply run in (the team's folder is never written).

    Only the archive redirect when ``data "archive_file"`` is served by the shim (and
    ``backend``, the team's own state made absolute, when the configuration relies on a local
    one) is overridden: providers, credentials and the team's
    backend stay as written, because this apply is the real one.
    """
    check_no_tflocal_leftover(terraform_dir)
    anchor = _anchor(project_dir, terraform_dir)
    root = terraform_dir.resolve()
    modules = module_folders(anchor, root, project_dir)
    private_dir(staged.tree)
    _Mirror(staged, modules, anchor).sync(anchor, staged.tree)
    copy_installed_modules(terraform_dir, staged.workdir)
    for folder in sorted(modules):
        text = "\n".join(t for t in (archive_override_text(folder), backend if folder == root else "") if t)
        if text:
            write_private(staged_folder(staged, anchor, folder) / OVERRIDE_NAME, text)
