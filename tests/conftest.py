"""Fixtures every test folder may use (the helpers live in ``tests/support``)."""

pytest_plugins = ["support.fake_lambda", "support.moto_server"]
