"""The container path's error (until ``errors.py`` grows a ``ContainerError``)."""

from __future__ import annotations

from lambda_harness.errors import HarnessError


class ContainerError(HarnessError):
    """The private Docker engine, an image build or the compose flow failed."""
