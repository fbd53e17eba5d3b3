"""``python -m lambda_harness.containers``: the docker compose proof (same as ``...containers.proof``)."""

from __future__ import annotations

import sys

from lambda_harness.containers.proof import main

if __name__ == "__main__":
    sys.exit(main())
