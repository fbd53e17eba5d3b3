"""What the staged copy changes besides the backend, so a fresh local endpoint can apply it.

Three adaptations, each only in ``.harness/tf/<backend>/tree/...`` (the real folder
is never written, and ``promote`` applies the real files with everything intact):

* ``import`` blocks are blanked in the root module's files: on an empty endpoint there
  is nothing to import, so the resource is created fresh. Override files cannot hold
  or remove import blocks (Terraform: "Import blocks can appear only in normal files"),
  so each block's lines are replaced by blank lines (a comment on the first), and every
  later line keeps its number: Terraform's messages still point into the real file.
  ``moved`` and ``removed`` blocks need nothing: on an empty state they are no-ops.
* ``terraform_remote_state`` data sources read a local state file holding the outputs
  the world declares (``remote_state``).
* the harness's own variable files (setting ``tfvars``) are copied in as
  ``zz_lambda_harness_<nn>_<name>.auto.tfvars``: Terraform loads them after the team's
  own ``*.auto.tfvars``, for every command, like ``-var-file`` would.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.errors import ConfigError
from lambda_harness.settings import Settings
from lambda_harness.terraform import hcl, remote_state

TFVARS_PREFIX = "zz_lambda_harness_"


@dataclass(frozen=True)
class RemovedImport:
    """One import block taken out of the staged copy."""

    file: Path
    line: int
    end_line: int | None
    to: str
    id: str

    def describe(self, shown_file: str) -> str:
        """The run's line for this block."""
        where = f"{shown_file}:{self.line}" + (f"-{self.end_line}" if self.end_line else "")
        return (
            f"{where}: import block (to = {self.to}, id = {self.id}) removed in the staged copy: "
            "the resource is created fresh on the local endpoint; promote keeps the block"
        )


def _expr(value: object) -> str:
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return json.dumps(text) if isinstance(value, str) else text


def blank_imports(path: Path, text: str) -> tuple[str, list[RemovedImport]]:
    """``text`` with every top-level ``import`` block blanked, line numbers kept (native syntax)."""
    lines = text.splitlines(keepends=True)
    removed = []
    for block in hcl.read_blocks(path, text):
        if block.kind != "import" or block.end_line is None:
            continue
        first, last = block.line, block.end_line
        for number in range(first, last + 1):
            ending = "\n" if lines[number - 1].endswith("\n") else ""
            lines[number - 1] = ending
        lines[first - 1] = (
            f"# lambda-harness: import block (lines {first}-{last}) removed in the staged copy; "
            "the resource is created fresh\n"
        )
        removed.append(
            RemovedImport(path, first, last, _expr(block.body.get("to")), _expr(block.body.get("id")))
        )
    return "".join(lines), removed


def drop_json_imports(path: Path, text: str) -> tuple[str, list[RemovedImport]]:
    """``text`` without its ``"import"`` entries (JSON syntax: later line numbers may move)."""
    data = json.loads(text)
    if not isinstance(data, dict) or "import" not in data:
        return text, []
    entries = data.pop("import")
    entries = entries if isinstance(entries, list) else [entries]
    line = hcl.line_of(text, r'"import"\s*:') or 1
    removed = [
        RemovedImport(path, line, None, _expr(e.get("to")), _expr(e.get("id")))
        for e in entries
        if isinstance(e, dict)
    ]
    return json.dumps(data, indent=2) + "\n", removed


def neutralize_imports(workdir: Path) -> list[RemovedImport]:
    """Blank the import blocks of the staged root module (they exist only in the root module)."""
    removed: list[RemovedImport] = []
    for path in hcl.config_files(workdir):
        text = path.read_text(encoding="utf-8")
        if "import" not in text:
            continue
        rewrite = drop_json_imports if path.name.endswith(".json") else blank_imports
        new_text, found = rewrite(path, text)
        if found:
            path.write_text(new_text, encoding="utf-8")
            removed += found
    return removed


def stage_tfvars(workdir: Path, files: Sequence[Path]) -> list[Path]:
    """Copy the harness's variable files into the staged root as late-loading ``*.auto.tfvars``."""
    copied = []
    for number, source in enumerate(files, start=1):
        if not source.is_file():
            raise ConfigError(
                f"tfvars: {source} does not exist; create it or fix tfvars = [...] in [tool.lambda-harness] "
                "(or LAMBDA_HARNESS_TFVARS)"
            )
        suffix = ".auto.tfvars.json" if source.name.endswith(".json") else ".auto.tfvars"
        stem = source.name.removesuffix(".json").removesuffix(".tfvars")
        target = workdir / f"{TFVARS_PREFIX}{number:02d}_{stem}{suffix}"
        shutil.copyfile(source, target)
        copied.append(target)
    return copied


def adapt(settings: Settings, workdir: Path) -> list[str]:
    """Every adaptation above, in the staged root ``workdir``; the run's lines about them."""
    lines = []
    for removed in neutralize_imports(workdir):
        real = settings.terraform_dir / removed.file.relative_to(workdir)
        lines.append(removed.describe(hcl.shown(real, settings.project_dir)))
    stage_tfvars(workdir, settings.tfvars)
    paths = settings.paths
    names = [block.labels[1] for block in remote_state.blocks(workdir)]
    outputs = remote_state.state_outputs(paths.world_state(settings.backend))
    states = remote_state.write_states(
        names, outputs, lambda name: paths.remote_state(settings.backend, name)
    )
    remote_state.write_overrides(workdir, states)
    return lines
