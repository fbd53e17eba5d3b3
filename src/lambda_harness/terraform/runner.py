"""``Terraform``: init, apply, the idempotency plan, show and destroy in the staged copy.

One instance drives one staged folder (``.harness/tf/<backend>/``) against one
local endpoint, with either driver:

* ``terraform`` (default): plain terraform with ``AWS_ENDPOINT_URL`` and test
  credentials. No provider ``endpoints {}`` block, which costs ~2 s every time
  the provider starts.
* ``tflocal``: terraform-local's wrapper, which writes its provider override
  (one endpoint per service) into the staged folder for each command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lambda_harness import proc
from lambda_harness.errors import CommandFailed, ConfigError, TerraformError
from lambda_harness.fsutil import PRIVATE_UMASK, write_private
from lambda_harness.paths import ignore_in_git
from lambda_harness.settings import Settings
from lambda_harness.terraform import diagnostics, mirror, overrides, plan, rewrite, staging
from lambda_harness.terraform import env as tfenv
from lambda_harness.terraform.archive_log import ArchiveLog, unbuilt_code
from lambda_harness.terraform.iam import IamIndex
from lambda_harness.terraform.inventory import all_resources, declaration_of, module_dirs_from
from lambda_harness.terraform.shims.archive import ANCHOR_ENV, STAGED_TREE_ENV
from lambda_harness.terraform.shims.archive import LOCKS_ENV as ARCHIVE_LOCKS_ENV
from lambda_harness.terraform.shims.archive import LOG_ENV as ARCHIVE_LOG_ENV
from lambda_harness.terraform.shims.archive import TARGETS_ENV as ARCHIVE_TARGETS_ENV
from lambda_harness.terraform.shims.install import install as shim_install
from lambda_harness.terraform.state import state_as_show_json
from lambda_harness.terraform.trust_watch import TrustWatch, trust_message
from lambda_harness.ui import UI

TERRAFORM_HINT = (
    "Install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) and put it on PATH."
)
_CHECKSUM_MISMATCH = "match any of the checksums"
#: Terraform's error when a file function (filemd5, filebase64sha256, file, ...) finds no file.
_MISSING_FILE = re.compile(r'Call to function "\w+" failed: open (\S+): no such file or directory')
_INSTALL_FAILURES = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "could not connect to registry",
    "Incompatible provider version",
    _CHECKSUM_MISMATCH,
)

# terraform-provider-aws holds one of Terraform's 10 default graph-walk slots through a fixed
# 5 s wait after every CreateFunction, so N functions cost at least ceil(N/10) x 5 s. The local
# endpoint has no API rate limits to respect: walk wider (50 functions: apply 36-48 s -> 18-21 s,
# measured by bench/pipeline.py). The real deploy (promote) keeps Terraform's default.
PARALLELISM = "-parallelism=64"


def _flat(output: str) -> str:
    """Terraform wraps its messages at ~80 columns; match phrases across the line breaks."""
    return " ".join(output.split())


def plugin_dir_setting(settings: Settings) -> Path | None:
    """The ``tf-plugin-dir`` setting (pyproject, ``LAMBDA_HARNESS_TF_PLUGIN_DIR``)."""
    return settings.tf_plugin_dir


def plan_command(settings: Settings, cwd: Path | None = None) -> str:
    """``lambda-harness plan`` as the user would type it from where they are (``--project`` when
    elsewhere): the only way the harness offers to look at a plan, since a bare ``terraform plan``
    outside the harness's environment runs with the user's real credentials."""
    here = (cwd or Path.cwd()).resolve()
    extra = "" if settings.project_dir == here else f" --project {settings.project_dir}"
    return f"lambda-harness plan{extra}"


def tflocal_bin(environ: Mapping[str, str]) -> str:
    """tflocal next to our interpreter (the venv's script), else on PATH."""
    beside = Path(sys.executable).parent / "tflocal"
    if beside.is_file():
        return str(beside)
    return proc.which(
        "tflocal", "Install terraform-local (pip install terraform-local==0.27.0).", path=environ.get("PATH")
    )


class Terraform:
    """Terraform against a local endpoint, in a staged copy of the team's terraform/ folder."""

    def __init__(
        self,
        settings: Settings,
        ui: UI,
        endpoint_url: str,
        *,
        environ: Mapping[str, str] | None = None,
        driver: str | None = None,
        report: bool = True,
    ) -> None:
        self.settings = settings
        self.ui = ui
        # Whether staging says what it changed; off for the build's own plan and validate, so a
        # run says it once, at the apply.
        self.report = report
        self.environ = dict(os.environ) if environ is None else dict(environ)
        self.driver = driver or settings.tf_driver
        if self.driver not in ("terraform", "tflocal"):
            raise ConfigError(f"tf-driver {self.driver!r} is not one of terraform, tflocal")
        self.endpoint = tfenv.check_endpoint(
            endpoint_url, allow_remote=settings.allow_non_loopback, source=settings.source_of("host")
        )
        self.staged = staging.layout(
            settings.harness_dir,
            settings.backend,
            settings.project_dir,
            settings.terraform_dir,
            workspace=settings.workspace,
        )
        self.terraform_bin = proc.which("terraform", TERRAFORM_HINT, path=self.environ.get("PATH"))
        self.mirrors: list[mirror.Mirror] = []
        self._staged_once = False
        #: ``address.attribute`` the last idempotency check waived (``idempotency-waive``).
        self.waived: list[str] = []
        # A command may run on a background thread (the second plan beside the tests): Ctrl-C
        # reaches only the main thread, which stops it through ``cancel``.
        self._children: set[subprocess.Popen[str]] = set()
        self._cancelled = threading.Event()
        self._guard = threading.Lock()

    # -- environment -------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The scrubbed environment for this driver (see ``lambda_harness.terraform.env``)."""
        base = tfenv.base_env(
            self.environ,
            home=self.staged.home,
            cli_config=self.staged.cli_config,
            region=self.settings.region,
        )
        paths = self.settings.paths
        base.update(
            {
                ARCHIVE_TARGETS_ENV: str(paths.archive_targets),
                ARCHIVE_LOG_ENV: str(paths.archive_log),
                ARCHIVE_LOCKS_ENV: str(paths.archive_locks),
                STAGED_TREE_ENV: str(self.staged.tree),
                ANCHOR_ENV: str(staging.anchor_of(self.settings.project_dir, self.settings.terraform_dir)),
            }
        )
        if self.staged.workspace != staging.DEFAULT_WORKSPACE:
            # init creates it in the local state on first use; every command then runs in it.
            base["TF_WORKSPACE"] = self.staged.workspace
        if self.driver == "tflocal":
            return tfenv.tflocal_env(base, self.endpoint, self.terraform_bin)
        return tfenv.terraform_env(base, self.endpoint)

    def argv(self, *args: str) -> list[str]:
        """The command line for a terraform subcommand with this driver."""
        program = tflocal_bin(self.environ) if self.driver == "tflocal" else self.terraform_bin
        return [program, *args]

    def _run(
        self,
        *args: str,
        check: bool = True,
        hint: str = "",
        interrupt_when: Callable[[], bool] | None = None,
    ) -> proc.Completed:
        limit = self.settings.apply_timeout
        started: list[subprocess.Popen[str]] = []

        def track(child: subprocess.Popen[str]) -> None:
            with self._guard:
                started.append(child)
                self._children.add(child)
                cancelled = self._cancelled.is_set()
            if cancelled:
                proc.stop(child)

        if self._cancelled.is_set():
            raise TerraformError(f"terraform {args[0]} not started: the run is stopping")
        try:
            return proc.run(
                self.argv(*args),
                cwd=self.staged.workdir,
                env=self.env(),
                stream=self.settings.verbose,
                check=check,
                hint=hint,
                umask=PRIVATE_UMASK,  # state, plans and .terraform/ are the harness's alone
                timeout=limit,
                interrupt_when=interrupt_when,
                on_start=track,
            )
        except subprocess.TimeoutExpired:
            raise TerraformError(
                f"terraform {args[0]} did not finish within {limit} s (apply-timeout) in the staged copy "
                f"{self.staged.workdir}, against {self.endpoint.url}; it was stopped. Is the endpoint "
                "answering (lambda-harness invoke, or its log)? Run with -v to see what terraform waits "
                "for; if this apply legitimately takes longer, raise apply-timeout in [tool.lambda-harness] "
                "or LAMBDA_HARNESS_APPLY_TIMEOUT (seconds)."
            ) from None
        except CommandFailed as exc:
            self._raise_for_known(exc.output)
            raise TerraformError(
                f"terraform {args[0]} failed in the staged copy {self.staged.workdir} "
                f"(of {self.settings.terraform_dir}):\n{exc}"
            ) from exc
        finally:
            with self._guard:
                self._children.difference_update(started)

    def cancel(self) -> None:
        """Stop the terraform command running now, from any thread, and start no other."""
        self._cancelled.set()
        with self._guard:
            children = list(self._children)
        for child in children:
            proc.stop(child)

    # -- stages ------------------------------------------------------------------------------

    def stage(self) -> None:
        """Re-copy terraform/, write the backend override and the CLI config."""
        staged = staging.stage(self.settings.project_dir, self.settings.terraform_dir, self.staged)
        ignore_in_git(self.settings.harness_dir)
        if staged.neutralised and self.report and not self._staged_once:
            listing = "; ".join(n.describe(self.settings.project_dir) for n in staged.neutralised)
            self.ui.info(
                f"provider settings for real AWS neutralised in the staged copy (the local endpoint has "
                f"one account, {overrides.LOCAL_ACCOUNT}, and no profiles): {listing}. Your files and "
                "`lambda-harness promote` keep them."
            )
        tfenv.prepare_home(self.staged.home)
        self.mirrors = mirror.find_mirrors(self.environ, plugin_dir_setting(self.settings))
        if staged.uses_archive:  # write_overrides redirected archive_file to the shim
            self.mirrors.append(shim_install(self.settings.paths.providers))
        write_private(self.staged.cli_config, mirror.cli_config_text(self.mirrors))
        self._staged_once = True
        self.adapt_staged()

    def adapt_staged(self) -> None:
        """What a fresh local endpoint needs changed in the staged copy (``rewrite.adapt``);
        each change is one line of output."""
        for line in rewrite.adapt(self.settings, self.staged.workdir):
            if self.report:
                self.ui.info(line)

    def init(self) -> None:
        """Stage, then ``terraform init`` offline from the provider mirror(s)."""
        self.stage()
        init = ("init", "-input=false", "-no-color", "-reconfigure")
        label = self.driver
        if self.staged.workspace != staging.DEFAULT_WORKSPACE:
            where = self.settings.source_of("workspace")
            label += f", workspace {self.staged.workspace} from {where}"
        with self.ui.step(f"terraform init ({label})"):
            done = self._run(*init, check=False)
            if done.returncode != 0 and _CHECKSUM_MISMATCH in _flat(done.output):
                self._unpin_lock_hashes()
                done = self._run(*init, check=False)
            stale = [u for u in diagnostics.unavailable_providers(done.output) if u.previous_version]
            if done.returncode != 0 and stale:
                self._upgrade_stale_lock(stale)
                done = self._run(*init, "-upgrade", check=False)
        if done.returncode == 0:
            staging.make_private(self.staged.workdir)  # init wrote .terraform.lock.hcl 0644
            return
        raise self._init_error(done.output)

    def _upgrade_stale_lock(self, stale: list[diagnostics.Unavailable]) -> None:
        """The lock selects a version no mirror has: the staged copy's lock may move (the real one never)."""
        listing = ", ".join(f"{u.provider} {u.previous_version}" for u in stale)
        self.ui.warn(
            f"{self.settings.terraform_dir / '.terraform.lock.hcl'} selects {listing}, which no mirror "
            f"holds ({diagnostics.describe_mirrors(self.mirrors)}); the staged copy uses the newest version "
            "your constraints allow (`terraform init -upgrade` there; your lock file is unchanged)"
        )

    def _init_error(self, output: str) -> TerraformError:
        """One message for what init could not install: modules, pins, or providers offline."""
        s = self.settings
        modules = diagnostics.module_download_message(output)
        if modules is not None:
            return TerraformError(modules)
        unavailable = diagnostics.unavailable_providers(output)
        pinned = [u for u in unavailable if u.unmatched_constraint]
        if pinned:
            return TerraformError(
                "\n".join(
                    diagnostics.pin_message(
                        u,
                        diagnostics.pins_of(
                            u.provider, u.unmatched_constraint or "", s.terraform_dir, s.project_dir
                        ),
                        mirrors=self.mirrors,
                        terraform_dir=s.terraform_dir,
                        project_dir=s.project_dir,
                    )
                    for u in pinned
                )
            )
        offline = [u for u in unavailable if u.offline]
        if offline:
            listed = self._run("providers", "-no-color", check=False).output
            return TerraformError(
                diagnostics.missing_providers_message(
                    offline,
                    diagnostics.required_constraints(listed),
                    diagnostics.declarations(s.terraform_dir, s.project_dir),
                    mirrors=self.mirrors,
                    terraform_dir=s.terraform_dir,
                    project_dir=s.project_dir,
                )
            )
        hint = ""
        if any(marker in _flat(output) for marker in _INSTALL_FAILURES):
            hint = "\n" + mirror.missing_provider_hint(
                self.mirrors, mirror.candidate_dirs(self.environ, plugin_dir_setting(s))
            )
        tail = "\n".join(output.strip().splitlines()[-25:])
        return TerraformError(
            f"terraform init failed in the staged copy {self.staged.workdir}:\n{tail}{hint}"
        )

    def _raise_for_known(self, output: str) -> None:
        """Failures with a known fix: a map indexed by ``terraform.workspace`` without this
        workspace's key, or a runtime the provider rejects (``python3.14`` on 5.x)."""
        s = self.settings
        workspace = diagnostics.workspace_index_message(
            output, s.project_dir, s.terraform_dir, self.staged.workspace
        )
        if workspace:
            raise TerraformError(workspace)
        rejected = diagnostics.rejected_runtimes_in_text(
            output, self.settings.project_dir, self.settings.terraform_dir
        )
        if rejected:
            raise TerraformError(diagnostics.runtime_message(rejected, self.provider_version()))

    def provider_version(self) -> str | None:
        """The hashicorp/aws version the staged copy's lock selects (after init)."""
        return diagnostics.locked_version(self.staged.workdir / ".terraform.lock.hcl")

    def validate_diagnostics(self, extra: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """``terraform validate -json``'s diagnostics (offline: no endpoint, no state), with the
        discovery override so a zip that is not built yet hides nothing, and ``extra`` files
        (name -> text) written into the staged root for this validate only."""
        self._ensure_init()
        s = self.settings
        written = staging.write_discovery_overrides(s.project_dir, s.terraform_dir, self.staged)
        for name, text in (extra or {}).items():
            path = self.staged.workdir / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        try:
            done = self._run("validate", "-json", "-no-color", check=False)
        finally:
            staging.remove_files(written)
        try:
            return list(json.loads(done.stdout).get("diagnostics") or [])
        except ValueError as exc:
            raise TerraformError(f"terraform validate printed no JSON in {self.staged.workdir}") from exc

    def _unpin_lock_hashes(self) -> None:
        """Keep the locked versions, drop checksums the mirror's platform package cannot match."""
        lock = self.staged.workdir / ".terraform.lock.hcl"
        if staging.strip_lock_hashes(lock):
            self.ui.warn(
                f"{self.settings.terraform_dir / '.terraform.lock.hcl'}: its checksums do not cover the "
                "mirror's provider package for this platform; the staged copy keeps the locked versions "
                "without them (real deploys are unaffected). To record this platform too, run "
                "`terraform providers lock -platform=linux_amd64 -platform=darwin_arm64 ...` in terraform/."
            )

    def _ensure_init(self) -> None:
        if not self._staged_once:
            self.init()

    def apply(self, *, check: bool = True) -> None:
        """init (if not yet), ``apply -auto-approve``, then (``check``) require an empty second plan.

        While terraform runs, the endpoint's trust refusals are watched: a role Lambda cannot
        assume stops the apply at once, naming the role's .tf file and line (``trust_watch``).
        """
        self._ensure_init()
        archives = ArchiveLog(self.settings.paths.archive_log)
        logged_from = archives.mark()
        watch = TrustWatch(self.endpoint.url)
        watch.begin()
        with self.ui.step(f"terraform apply ({self.driver}) against {self.endpoint.url}"):
            done = self._run(
                "apply",
                "-input=false",
                "-no-color",
                "-auto-approve",
                PARALLELISM,
                check=False,
                interrupt_when=watch.refused,
            )
        if watch.final or watch.findings:
            iam = self.iam_index()  # reads the state once: terraform has exited, it no longer changes
            if watch.final:
                raise TerraformError(trust_message(watch.final, iam, self.settings.project_dir))
            for finding in watch.findings:
                if finding.get("enforced"):
                    continue  # refused a while, then allowed: the provider's retry won, as on AWS
                # iam = warn: created anyway, said once
                self.ui.warn(trust_message([finding], iam, self.settings.project_dir).splitlines()[0])
        if done.returncode != 0:
            self._raise_for_known(done.output)
            raise TerraformError(
                f"terraform apply failed in the staged copy {self.staged.workdir} "
                f"(of {self.settings.terraform_dir}):\n"
                f"{CommandFailed(done.args, done.returncode, done.output)}"
            )
        self._refuse_unbuilt_code(archives.since(logged_from))
        if check:
            self.check_idempotent()

    def _refuse_unbuilt_code(self, logged: list[dict[str, Any]]) -> None:
        """TerraformError when the apply deployed code the archive shim zipped without a build
        target (``archive_log``): the build never saw it, so nothing may test or attest it."""
        if not any(entry.get("complete") is False for entry in logged):
            return
        show = state_as_show_json(self.staged.state) or self.show_json()
        anchor = staging.anchor_of(self.settings.project_dir, self.settings.terraform_dir)
        unbuilt = unbuilt_code(logged, show, (self.staged.workdir, self.staged.tree, anchor))
        if unbuilt:
            raise TerraformError("\n".join(u.message() for u in unbuilt))

    def iam_index(self) -> IamIndex:
        """The roles in the harness state and where they are declared (empty when there is no state)."""
        show = state_as_show_json(self.staged.state) or {}
        module_dirs = module_dirs_from(self.staged.workdir, self.settings.terraform_dir)
        resources = list(all_resources(show.get("values", {}).get("root_module", {})))
        return IamIndex.from_resources(
            resources, lambda address: declaration_of(address, self.settings.terraform_dir, module_dirs)
        )

    def discovery_plan(self) -> dict[str, Any]:
        """``plan`` + ``show -json`` before the zips exist (discovery override), never applied.

        What Terraform evaluates: every function by deployed name, with handler, runtime and
        ``filename``, however it is declared (modules, ``for_each``, variables, ``.tfvars``).
        """
        self._ensure_init()
        s = self.settings
        planfile = self.staged.root / "discovery.tfplan"
        written = staging.write_discovery_overrides(s.project_dir, s.terraform_dir, self.staged)
        try:
            with self.ui.step("terraform plan + show -json (what Terraform deploys, by name)"):
                while True:
                    done = self._run(
                        "plan",
                        "-input=false",
                        "-no-color",
                        "-refresh=false",
                        "-lock=false",
                        PARALLELISM,
                        f"-out={planfile}",
                        check=False,
                    )
                    # A zip the build makes, hashed where no override can null it (a code key
                    # "lambda/${filemd5(...)}.zip"): an empty stand-in, then plan again.
                    missing = _MISSING_FILE.findall(_flat(done.output)) if done.returncode != 0 else []
                    stand_ins = [
                        made for path in missing for made in staging.write_placeholder(self.staged, path)
                    ]
                    if not stand_ins:
                        break
                    written += stand_ins
                if done.returncode != 0:
                    self._raise_for_known(done.output)
                    tail = "\n".join(done.output.strip().splitlines()[-25:])
                    raise TerraformError(
                        f"terraform plan failed while reading what {s.terraform_dir} deploys (in the "
                        f"staged copy {self.staged.workdir}, before anything is built):\n{tail}"
                    )
                shown = self._run("show", "-json", "-no-color", str(planfile)).stdout
        finally:
            staging.remove_files(written)
        return dict(json.loads(shown))

    def plan_changes(self, *, announce: bool = True) -> list[plan.PlannedChange]:
        """What a plan would change now (empty list: nothing); ``announce=False``: no progress line."""
        return self.plan(announce=announce)[1]

    def plan(
        self, title: str = "terraform plan (must be empty after apply)", *, announce: bool = True
    ) -> tuple[str, list[plan.PlannedChange]]:
        """(terraform's own plan text, the changes): a plan of the staged copy against the endpoint;
        ``announce=False``: no progress line."""
        self._ensure_init()
        planfile = self.staged.root / "check.tfplan"
        step = self.ui.step if announce else _silent
        with step(title):
            done = self._run(
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                PARALLELISM,
                f"-out={planfile}",
                check=False,
            )
        if done.returncode == 0:
            return done.stdout, []
        if done.returncode != 2:
            self._raise_for_known(done.output)
            tail = "\n".join(done.output.strip().splitlines()[-25:])
            raise TerraformError(f"terraform plan failed in {self.staged.workdir}:\n{tail}")
        shown = json.loads(self._run("show", "-json", "-no-color", str(planfile)).stdout)
        changes = plan.planned_changes(shown)
        # Exit code 2 with no listed change would be a Terraform quirk; still say something useful.
        return done.stdout, changes or [plan.PlannedChange("(unknown)", ("update",), ())]

    def check_idempotent(self, *, announce: bool = True) -> None:
        """Raise TerraformError naming every resource a second plan would change, except what
        ``idempotency-waive`` takes out of the check (kept in ``self.waived``)."""
        changes = self.plan_changes(announce=announce)
        remaining, self.waived = plan.apply_waivers(changes, self.settings.idempotency_waive)
        if remaining:
            raise TerraformError(plan.perpetual_diff_message(remaining, plan_command(self.settings)))

    def start_idempotency_check(self) -> IdempotencyCheck:
        """The second plan on a background thread (it only reads state and the endpoint)."""
        return IdempotencyCheck(self)

    def show_json(self) -> dict[str, Any]:
        """``terraform show -json`` of the harness state (``read_inventory``'s fallback when
        ``state_as_show_json`` cannot read the state file)."""
        self._ensure_init()
        return dict(json.loads(self._run("show", "-json", "-no-color").stdout))

    def destroy(self) -> None:
        """``terraform destroy -auto-approve`` in the staged copy (the endpoint keeps running)."""
        if not self.staged.state.exists():
            self.ui.info(f"nothing to destroy: no harness state at {self.staged.state}")
            return
        self._ensure_init()
        with self.ui.step(f"terraform destroy ({self.driver})"):
            self._run("destroy", "-input=false", "-no-color", "-auto-approve", PARALLELISM)


@contextmanager
def _silent(title: str) -> Iterator[None]:
    yield


class IdempotencyCheck:
    """The second plan, run beside the tests; ``wait`` gives its verdict, ``cancel`` stops it.

    It prints nothing while it runs, so the run's output keeps its order: ``wait`` returns
    how long it took and the caller says so.
    """

    def __init__(self, tf: Terraform, clock: Callable[[], float] = time.monotonic) -> None:
        self.tf = tf
        self.seconds: float | None = None
        self._clock = clock
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="lh-terraform-plan", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        start = self._clock()
        try:
            self.tf.check_idempotent(announce=False)
        except BaseException as exc:  # handed to the thread that waits
            self._error = exc
        finally:
            self.seconds = self._clock() - start

    def wait(self) -> float:
        """Block until the plan ends; its duration, or its TerraformError (a non-empty plan)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.seconds or 0.0

    def cancel(self) -> None:
        """Stop the plan if it still runs (Ctrl-C, a failed test stage) and wait for the thread."""
        if self._thread.is_alive():
            self.tf.cancel()
            self._thread.join()
