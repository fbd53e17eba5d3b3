"""Sphinx configuration for lambda-harness's docs (MyST Markdown).

Built by ``nox -s docs`` with warnings as errors. Nothing here reaches the
network: no intersphinx, no remote images, no linkcheck builder.
"""

from __future__ import annotations

from importlib.metadata import version as _version

project = "lambda-harness"
author = "lambda-harness maintainers"
release = _version("lambda-harness")
version = release

extensions = [
    "myst_parser",  # the pages are Markdown
    "sphinx_argparse_cli",  # reference/cli.md is generated from lambda_harness.cli.build_parser
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# `[text](page.md#a-heading)` resolves to headings down to ###; a missing one is a warning (an error here).
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

nitpicky = True
html_theme = "alabaster"
html_title = f"lambda-harness {release}"
