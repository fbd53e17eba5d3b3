import sys

from lambda_harness.cli import main

sys.exit(main())
