"""The containerized path: Dockerfiles, docker compose, and the proof that they work.

``engine`` runs a private dockerd, ``apt`` installs the Debian packages it needs,
``baseimage`` builds a registry-free base image with debootstrap, ``compose``
drives docker-compose v1, and ``proof`` runs the whole flow (``nox -s compose``).
"""
