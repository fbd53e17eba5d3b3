"""``python -m compose_proof``: the docker compose proof (same as ``...containers.proof``)."""

from __future__ import annotations

import sys

from compose_proof.proof import main

if __name__ == "__main__":
    sys.exit(main())
