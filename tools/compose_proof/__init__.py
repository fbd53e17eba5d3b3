"""The containerized path: Dockerfiles, docker compose, and the proof that they work.

``apt`` installs Debian's docker.io/docker-compose/debootstrap without starting
services, ``engine`` runs a private dockerd (no bridge, no iptables), ``baseimage``
builds a registry-free base image with debootstrap (cached), ``compose`` runs
the library's compose wrapper (``lambda_harness.endpoint.compose``) on docker-compose v1
and finds its containers, ``checks`` holds what the host verifies (zip equality, smoke,
the pipeline hook) and ``proof`` runs the whole flow (``nox -s compose``).
"""
