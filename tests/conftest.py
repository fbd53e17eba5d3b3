"""Fixtures every test folder may use (the helpers live in ``tests/support``)."""

pytest_plugins = ["support.fake_lambda", "support.moto_server"]

# tests/fixtures/repos/ are worker repos the functional tests copy and run: their own tests
# (tests/integration, functions/*/tests) belong to them, not to this suite.
collect_ignore = ["fixtures"]
