"""The environment terraform (or tflocal) runs with against a local endpoint.

Built from a minimal base, never from the host environment as a whole, so no
real credential, profile or AWS config can reach the provider:

* kept from the host: ``PATH``, ``TMPDIR``, ``LANG``/``LC_ALL``, proxy variables
  (``NO_PROXY`` gains the loopback names), ``TF_LOG``/``TF_LOG_PATH``;
* ``HOME`` is a folder under ``.harness/`` (no ``~/.aws``, ``~/.terraformrc``,
  ``~/.terraform.d`` from the real home);
* forced: ``AWS_ACCESS_KEY_ID=test``, ``AWS_SECRET_ACCESS_KEY=test``, region,
  ``AWS_CONFIG_FILE``/``AWS_SHARED_CREDENTIALS_FILE`` -> empty files under
  ``.harness/``, ``AWS_EC2_METADATA_DISABLED=true``, ``TF_CLI_CONFIG_FILE`` -> the
  harness's CLI config, ``TF_IN_AUTOMATION``, ``TF_INPUT=0``, ``CHECKPOINT_DISABLE``;
* per driver: ``AWS_ENDPOINT_URL`` (terraform), plus ``LOCALSTACK_HOSTNAME``,
  ``EDGE_PORT``, ``S3_HOSTNAME`` and ``TF_CMD`` (tflocal).

Every other ``AWS_*`` variable, ``AWS_PROFILE`` and ``AWS_CA_BUNDLE`` included, is dropped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lambda_harness.errors import TerraformError

FAKE_ACCESS_KEY = "test"
FAKE_SECRET_KEY = "test"  # noqa: S105 - the documented fake credential of local endpoints
_PASS_THROUGH = ("PATH", "TMPDIR", "LANG", "LC_ALL", "TF_LOG", "TF_LOG_PATH")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint URL (``http://127.0.0.1:4566``)."""

    url: str
    host: str
    port: int


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, *, allow_remote: bool) -> Endpoint:
    """Parse ``url``; refuse a non-loopback host unless ``allow_remote`` (real AWS could be behind it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise TerraformError(f"endpoint {url!r} is not an http(s) URL like http://127.0.0.1:4566")
    if not is_loopback(host) and not allow_remote:
        raise TerraformError(
            f"endpoint {url} is not a loopback address (127.0.0.0/8, ::1, localhost): the harness only "
            "applies to a local endpoint. If that host really is a local AWS endpoint, set "
            "allow-remote-endpoint = true in [tool.lambda-harness] or LAMBDA_HARNESS_ALLOW_REMOTE_ENDPOINT=1."
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Endpoint(url=url.rstrip("/"), host=host, port=port)


def base_env(environ: Mapping[str, str], *, home: Path, cli_config: Path, region: str) -> dict[str, str]:
    """The scrubbed base every harness terraform call starts from (see module docstring)."""
    env = {k: environ[k] for k in _PASS_THROUGH if k in environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    for name in _PROXIES:
        if name in environ:
            env[name] = environ[name]
    if any(name in env for name in _PROXIES):
        no_proxy = [p for p in (environ.get("NO_PROXY") or environ.get("no_proxy") or "").split(",") if p]
        env["NO_PROXY"] = env["no_proxy"] = ",".join([*no_proxy, *_LOOPBACK_NAMES])
    empty = home / ".aws-empty"
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID=FAKE_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET_KEY,
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
    )
    return env


def prepare_home(home: Path) -> None:
    """Create the private HOME and the empty AWS config/credentials file it points at."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".aws-empty").write_text("", encoding="utf-8")


def terraform_env(base: Mapping[str, str], endpoint: Endpoint) -> dict[str, str]:
    """Plain terraform: the provider and the AWS SDK read ``AWS_ENDPOINT_URL`` for every service."""
    return {**base, "AWS_ENDPOINT_URL": endpoint.url}


def tflocal_env(base: Mapping[str, str], endpoint: Endpoint, terraform_bin: str) -> dict[str, str]:
    """tflocal writes a provider override with one endpoint per service from these variables.

    ``S3_HOSTNAME`` must be the endpoint's host: tflocal's default
    (``s3.localhost.localstack.cloud``) needs DNS and only LocalStack answers it.
    ``AWS_ENDPOINT_URL`` is kept too (tflocal derives host and port from it).
    """
    return {
        **base,
        "AWS_ENDPOINT_URL": endpoint.url,
        "LOCALSTACK_HOSTNAME": endpoint.host,
        "EDGE_PORT": str(endpoint.port),
        "S3_HOSTNAME": endpoint.host,
        "TF_CMD": terraform_bin,
        "DISABLE_DEPRECATION_NOTICE": "1",
    }
