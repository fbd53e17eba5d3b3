"""lambda-harness: prove every Lambda function in a worker repo works before the real apply."""

__version__ = "0.1.0"
