"""The containerized path: Dockerfiles, docker compose, and the proof that they work.

``apt`` installs Debian's docker.io/docker-compose/debootstrap without starting
services, ``engine`` runs a private dockerd (no bridge, no iptables), ``baseimage``
builds a registry-free base image with debootstrap (cached), ``compose`` drives
docker-compose v1, ``checks`` holds what the host verifies (zip equality, smoke,
the pipeline hook) and ``proof`` runs the whole flow (``nox -s compose``).
"""
