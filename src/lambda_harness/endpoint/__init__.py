"""The embedded AWS endpoint and its Lambda runtime."""
