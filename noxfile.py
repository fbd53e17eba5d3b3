"""Developer and CI entry points.

`nox` runs the default sessions (what `.ci/run` runs): lint, typecheck, docs,
tests, integration, compose. `nox -s integration` is the main job: build -> up -> apply
-> invoke every function -> down.
"""

from __future__ import annotations

import shutil

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "docs", "tests", "integration", "compose"]
nox.options.error_on_missing_interpreters = True

DEV = ["-e", ".[dev]"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", "src", "tests", "tools", "bench", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "tools", "bench", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the harness package."""
    session.install(*DEV)
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build docs/ with Sphinx (warnings are errors) and check every relative link; no network.

    The CLI reference is generated from the argparse parser, so the package is installed.
    A fresh build every time: Sphinx re-reads only changed pages, and would not repeat an old warning.
    """
    session.install("-e", ".[docs]")
    shutil.rmtree("docs/_build", ignore_errors=True)
    session.run("sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html")
    # Links in README.md (outside the Sphinx tree) and docs/, checked offline.
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/unit/core/test_docs.py")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and functional tests (real pip, real terraform, real processes; no Docker).

    The Docker engine tests (tests/functional/compose_proof) run in the `compose` session.
    Three pytest-xdist workers, one test file per worker (`--dist loadfile`: a module's shared
    apply stays in one process): the functional tests mostly wait on terraform and handler
    processes, so three workers beat two cores' worth; `nox -s tests -- -n 0` runs them serially.
    """
    session.install(*DEV)
    session.run(
        "pytest",
        "tests/unit",
        "tests/functional",
        "--ignore=tests/functional/compose_proof",
        "-n",
        "3",
        "--dist",
        "loadfile",
        *session.posargs,
    )


@nox.session
def build(session: nox.Session) -> None:
    """Build dists.zip (+ dists.zip.json) for this repo."""
    session.install(*DEV)
    session.run("lambda-harness", "build", *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """The main job: build, up, apply, invoke every deployed function, down.

    Extra arguments go to `lambda-harness run`, e.g. `nox -s integration -- --backend localstack`.
    """
    session.install(*DEV)
    session.run("lambda-harness", "run", *session.posargs)


@nox.session
def promote(session: nox.Session) -> None:
    """Ship exactly the zip that passed `integration` (refuses otherwise)."""
    session.install(*DEV)
    session.run("lambda-harness", "promote", *session.posargs)


@nox.session
def compose(session: nox.Session) -> None:
    """Prove `docker compose up`: local dockerd (no bridge, no iptables), containerized build and endpoint.

    Needs root and apt (it installs docker.io, docker-compose and debootstrap if missing).
    """
    session.install(*DEV)
    session.run("pytest", "tests/functional/compose_proof")
    # CI tooling, outside the wheel: tools/compose_proof.
    session.run("python", "-m", "compose_proof", *session.posargs, env={"PYTHONPATH": "tools"})
