"""Terraform providers served by the harness itself, for the staged copy only.

``archive``: ``data "archive_file"`` (hashicorp/archive's data source), answered by a Python
process speaking Terraform's plugin protocol 6 (``server``, ``wire``): each read builds the zip
with the harness's packaging (reproducible, with the function's dependencies) instead of
hashicorp's, so what Terraform uploads is what the harness built and tested. ``install`` puts
its launcher in a filesystem mirror under ``.harness/providers``; the staged copy's override
redirects the local name ``archive`` to ``lambda-harness/archive``.
"""
