"""Every path under ``.harness/``, named once.

``.harness/`` is the harness's private folder in the worker repo: staged
Terraform and its local state, the endpoint's pid and log, the runtime's
extracted code, the run's results and the attestation. Nothing else in the
package spells these names; it asks ``HarnessPaths`` (``settings.paths``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.fsutil import private_dir

HARNESS_DIR = ".harness"
_GITIGNORE = "# Written by lambda-harness: everything here is the harness's private, rebuilt state.\n*\n"


def ignore_in_git(harness_dir: Path) -> None:
    """Write ``<harness_dir>/.gitignore`` (``*``) when the folder exists and has none, so git
    never lists or walks ``.harness/`` (the staged tree links into the repo), whatever the
    team's own ``.gitignore`` says."""
    marker = harness_dir / ".gitignore"
    if harness_dir.is_dir() and not marker.exists():
        try:  # 0600 whatever the umask, like everything the harness writes in .harness/
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            return
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(_GITIGNORE)


@dataclass(frozen=True)
class HarnessPaths:
    """Paths below one worker repo's ``.harness/`` folder (only ``ensure`` creates anything)."""

    root: Path

    def ensure(self, folder: Path | None = None) -> Path:
        """Create ``.harness/`` (0700, whatever the umask; an existing one is closed to 0700) and
        ``folder`` below it (each new level 0700); the one place ``.harness/`` is made."""
        private_dir(self.root)
        if folder is None:
            return self.root
        if not folder.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"{folder} is not under {self.root}")
        return private_dir(folder)

    @property
    def lock(self) -> Path:
        """``lock``: flock-ed by the command using the repo (``fsutil.repo_lock``); holds its pid."""
        return self.root / "lock"

    # --- terraform ---------------------------------------------------------------------------
    def tf_root(self, backend: str) -> Path:
        """``tf/<backend>/``: the staged copy, its local state, CLI config and private HOME."""
        return self.root / "tf" / backend

    def warm_record(self, backend: str) -> Path:
        """``tf/<backend>/warm.json``: which endpoint the state belongs to, and what the last
        successful apply read (the warm loop's evidence that Terraform may be skipped)."""
        return self.tf_root(backend) / "warm.json"

    def world_root(self, backend: str) -> Path:
        """``tf/world/<backend>/``: the staged world folder and its own local state (applied first)."""
        return self.root / "tf" / "world" / backend

    def world_state(self, backend: str) -> Path:
        """``tf/world/<backend>/terraform.tfstate``: the world's state (its outputs feed remote states)."""
        return self.world_root(backend) / "terraform.tfstate"

    def world_applied(self, backend: str) -> Path:
        """``tf/world/<backend>/applied.json``: which endpoint instance the world was last applied to,
        and from which files (the same world on the same instance is not applied twice)."""
        return self.world_root(backend) / "applied.json"

    def remote_state(self, backend: str, name: str) -> Path:
        """``tf/<backend>/remote-state/<name>.tfstate``: what ``terraform_remote_state.<name>`` reads."""
        return self.tf_root(backend) / "remote-state" / f"{name}.tfstate"

    @property
    def build_record(self) -> Path:
        """``build.json``: every zip the last build wrote (path, kind, sha256, functions)."""
        return self.root / "build.json"

    @property
    def discovery(self) -> Path:
        """``discovery.json``: Terraform's evaluated plan (``show -json``) and the key it was made for."""
        return self.root / "discovery.json"

    @property
    def providers(self) -> Path:
        """``providers/``: a Terraform filesystem mirror holding the harness's own providers."""
        return self.root / "providers"

    @property
    def archive_targets(self) -> Path:
        """``archives.json``: for each archive_file output, the platform and dependencies the build chose."""
        return self.root / "archives.json"

    @property
    def archive_locks(self) -> Path:
        """``locks/``: one lock file per ``archive_file`` output while the provider shim builds it."""
        return self.root / "locks"

    @property
    def archive_log(self) -> Path:
        """``archives.log``: one JSON line per archive the provider shim built (output, sha256)."""
        return self.root / "archives.log"

    @property
    def inventory(self) -> Path:
        """``inventory.json``: the deployed functions and their triggers (written after apply)."""
        return self.root / "inventory.json"

    # --- endpoint ----------------------------------------------------------------------------
    @property
    def endpoint_pid(self) -> Path:
        """``endpoint.pid``: the detached endpoint's pid."""
        return self.root / "endpoint.pid"

    @property
    def endpoint_info(self) -> Path:
        """``endpoint.json``: pid, boot id, start time, url and log of the detached endpoint."""
        return self.root / "endpoint.json"

    @property
    def endpoint_log(self) -> Path:
        """``endpoint.log``: what the detached endpoint prints."""
        return self.root / "endpoint.log"

    @property
    def runtime(self) -> Path:
        """``runtime/``: the Lambda runtime's work folder (extracted code, per-worker folders)."""
        return self.root / "runtime"

    @property
    def runtime_code(self) -> Path:
        """``runtime/code/<sha256>/``: each deployed zip, extracted once."""
        return self.runtime / "code"

    # --- test --------------------------------------------------------------------------------
    @property
    def results(self) -> Path:
        """``results.json``: per-function results of the last run."""
        return self.root / "results.json"

    @property
    def junit(self) -> Path:
        """``junit.xml``: the last run's JUnit report."""
        return self.root / "junit.xml"

    @property
    def coverage_parts(self) -> Path:
        """``coverage-parts/``: one coverage data file per execution environment (combined, then removed)."""
        return self.root / "coverage-parts"

    @property
    def coverage_data(self) -> Path:
        """``.coverage``: the combined coverage data, paths in functions/ (for ``coverage combine``)."""
        return self.root / ".coverage"

    @property
    def coverage_xml(self) -> Path:
        """``coverage.xml``: Cobertura XML for CI tools."""
        return self.root / "coverage.xml"

    @property
    def coverage_html(self) -> Path:
        """``coverage-html/``: coverage.py's HTML report (which function ran each line)."""
        return self.root / "coverage-html"

    @property
    def report_html(self) -> Path:
        """``report.html``: the run's self-contained HTML report."""
        return self.root / "report.html"

    # --- promote -----------------------------------------------------------------------------
    @property
    def attestation(self) -> Path:
        """``attestation.json``: what the last green run tested (``promote`` ships only that)."""
        return self.root / "attestation.json"

    @property
    def promote_plan(self) -> Path:
        """``promote.tfplan``: the real plan ``promote`` shows, then applies."""
        return self.root / "promote.tfplan"
