"""One exception tree for the whole harness.

Every message says where (file, function), what went wrong, and how to fix it.
The CLI maps these to exit codes in one place (`cli.main`).
"""

from __future__ import annotations

from collections.abc import Sequence


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code = 1


class ConfigError(HarnessError):
    """Bad settings, a missing folder, an unreadable pyproject or .tf file."""

    exit_code = 2


class ToolNotFound(HarnessError):
    """A program the harness needs (terraform, pythonX.Y, docker) is not installed."""

    exit_code = 3


class CommandFailed(HarnessError):
    """A subprocess exited non-zero; carries its exit code and the tail of its output."""

    def __init__(self, args: Sequence[str], returncode: int, output: str, hint: str = "") -> None:
        self.args_list = list(args)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-30:])
        msg = f"command failed with exit code {returncode}: {' '.join(self.args_list)}"
        if tail:
            msg += f"\n--- last lines of output ---\n{tail}"
        if hint:
            msg += f"\n{hint}"
        super().__init__(msg)


class BuildError(HarnessError):
    """dists.zip could not be built, or is not deployable (limits, handlers)."""


class EndpointError(HarnessError):
    """The embedded AWS endpoint or its Lambda runtime failed."""


class TerraformError(HarnessError):
    """terraform/tflocal failed, or the second plan was not empty."""


class InvocationError(HarnessError):
    """A function could not be invoked at all (not a handler error: that is a result)."""


class PromoteError(HarnessError):
    """Promotion refused: no attestation, failed tests, or the zip/Terraform changed."""


class ContainerError(HarnessError):
    """The private Docker engine, an image build or the compose flow failed."""


class ShardError(HarnessError):
    """Shards that do not fit together: one missing or given twice, different zips or Terraform."""

    exit_code = 2
