"""AWS Lambda deployment-package size limits.

250 MB unzipped is a hard error. 50 MB zipped is an error when a function
uploads the zip directly (``filename``) and a warning when it comes from S3
(only the unzipped limit applies there). 80% of either warns. Every message
lists the biggest packages, since that is where the fix is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lambda_harness.errors import BuildError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Sizes in bytes; injectable so tests need no giant files."""

    unzipped_max: int = 250 * MB
    zipped_max: int = 50 * MB
    warn_ratio: float = 0.8


@dataclass(frozen=True)
class PackageSize:
    """The size a top-level package (or module, or dist-info) adds to the zip."""

    name: str
    unzipped: int
    zipped: int


def biggest(sizes: Iterable[PackageSize], n: int = 10) -> list[PackageSize]:
    """The ``n`` biggest by unzipped size (ties by name, for stable output)."""
    return sorted(sizes, key=lambda p: (-p.unzipped, p.name))[:n]


def _fmt(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _listing(top: list[PackageSize]) -> str:
    return "biggest packages: " + ", ".join(f"{p.name} {_fmt(p.unzipped)}" for p in top)


def check_unzipped(
    unzipped: int, top: list[PackageSize], limits: Limits, name: str = "dists.zip"
) -> list[str]:
    """Error over the unzipped limit; the warnings near it."""
    if unzipped > limits.unzipped_max:
        raise BuildError(
            f"{name} would unzip to {_fmt(unzipped)}, over the Lambda limit of "
            f"{_fmt(limits.unzipped_max)}; {_listing(top)}. Drop packages the runtime already has "
            "(boto3, botocore) or move big ones to a layer"
        )
    if unzipped > limits.unzipped_max * limits.warn_ratio:
        return [
            f"{name} unzips to {_fmt(unzipped)}, {unzipped / limits.unzipped_max:.0%} of the "
            f"{_fmt(limits.unzipped_max)} Lambda limit; {_listing(top)}"
        ]
    return []


def check_zipped(
    zipped: int, top: list[PackageSize], limits: Limits, direct_upload: bool, name: str = "dists.zip"
) -> list[str]:
    """Error over the zipped limit for direct uploads (warning for S3); warnings near it."""
    if zipped > limits.zipped_max:
        msg = f"{name} is {_fmt(zipped)} zipped, over the {_fmt(limits.zipped_max)} limit for a direct upload"
        if direct_upload:
            raise BuildError(
                f"{msg}; {_listing(top)}. Upload it through an aws_s3_object "
                "(s3_bucket/s3_key) or make it smaller"
            )
        return [f"{msg} (fine from S3, as here); {_listing(top)}"]
    if zipped > limits.zipped_max * limits.warn_ratio:
        return [
            f"{name} is {_fmt(zipped)} zipped, {zipped / limits.zipped_max:.0%} of the "
            f"{_fmt(limits.zipped_max)} direct-upload limit; {_listing(top)}"
        ]
    return []
