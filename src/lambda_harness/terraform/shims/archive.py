"""``lambda-harness/archive``: a Terraform provider serving ``data "archive_file"``, in Python.

Terraform starts it (through the launcher ``install`` writes) and talks to it over gRPC on a
unix socket, with go-plugin's handshake: the magic cookie in the environment, one line on
stdout (``1|6|unix|<socket>|grpc|<certificate>``), TLS with a self-signed certificate (go-plugin's
AutoMTLS; Terraform's client certificate is not required), and ``plugin.GRPCController/Shutdown``
to stop. Of protocol 6 it serves what a data-source-only provider needs: metadata, the schema
(hashicorp/archive 2.x's ``archive_file``), validation and configuration (accepted as they are),
``ReadDataSource`` and ``StopProvider``.

Each read builds the zip with the harness's packaging (``packaging.archives``): reproducible, and
with the dependencies of a ``requirements.txt`` in ``source_dir`` for the platform the build
chose (``archives.json``, written by the builder after it saw who uses each archive). Each read
is appended to ``archives.log`` (output path and sha256); in promote, a target's
``expected_sha256`` must match or the read fails with a diagnostic.

Environment: ``LAMBDA_HARNESS_ARCHIVES`` (the targets file), ``LAMBDA_HARNESS_ARCHIVE_LOG``.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lambda_harness.errors import HarnessError
from lambda_harness.packaging.archives import ArchiveSpec, ArchiveTarget, complete_entries
from lambda_harness.packaging.wheels import DepsCache, PipInstaller
from lambda_harness.packaging.zipper import write_zip
from lambda_harness.terraform.shims import wire

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
TARGETS_ENV = "LAMBDA_HARNESS_ARCHIVES"
LOG_ENV = "LAMBDA_HARNESS_ARCHIVE_LOG"
STAGED_TREE_ENV = "LAMBDA_HARNESS_STAGED_TREE"  # the staged tree and the real folder it mirrors:
ANCHOR_ENV = "LAMBDA_HARNESS_ANCHOR"  # an output path in either is keyed relative to it
LOCKS_ENV = "LAMBDA_HARNESS_ARCHIVE_LOCKS"  # where the per-output build locks live (.harness/locks/)
ERROR = 1

# name, cty type, required, optional, computed: hashicorp/archive 2.x's archive_file.
ATTRIBUTES: tuple[tuple[str, Any, bool, bool, bool], ...] = (
    ("id", "string", False, False, True),
    ("type", "string", True, False, False),
    ("source_content", "string", False, True, False),
    ("source_content_filename", "string", False, True, False),
    ("source_file", "string", False, True, False),
    ("source_dir", "string", False, True, False),
    ("excludes", ["set", "string"], False, True, False),
    ("exclude_symlink_directories", "bool", False, True, False),
    ("output_path", "string", True, False, False),
    ("output_file_mode", "string", False, True, False),
    ("output_size", "number", False, False, True),
    ("output_sha", "string", False, False, True),
    ("output_sha256", "string", False, False, True),
    ("output_base64sha256", "string", False, False, True),
    ("output_sha512", "string", False, False, True),
    ("output_base64sha512", "string", False, False, True),
    ("output_md5", "string", False, False, True),
)


# -- messages -------------------------------------------------------------------------------------


def _attribute(name: str, ctype: Any, required: bool, optional: bool, computed: bool) -> bytes:
    return wire.message(
        wire.field_str(1, name),
        wire.field_bytes(2, json.dumps(ctype).encode()),
        wire.field_int(4, required),
        wire.field_int(5, optional),
        wire.field_int(6, computed),
    )


def schema() -> bytes:
    """``Schema`` of ``archive_file``: Schema.block = 2; Block.attributes = 2, Block.block_types = 3;
    NestedBlock {type_name = 1, block = 2, nesting = 3 (SET)}."""
    source = wire.message(
        wire.field_bytes(2, _attribute("content", "string", True, False, False)),
        wire.field_bytes(2, _attribute("filename", "string", True, False, False)),
    )
    nested = wire.message(wire.field_str(1, "source"), wire.field_bytes(2, source), wire.field_int(3, 3))
    block = wire.message(
        [wire.field_bytes(2, _attribute(*attribute)) for attribute in ATTRIBUTES],
        wire.field_bytes(3, nested),
    )
    return wire.message(wire.field_bytes(2, block))


def provider_schema_response() -> bytes:
    """``GetProviderSchema.Response``: an empty provider block, one data source."""
    entry = wire.message(wire.field_str(1, "archive_file"), wire.field_bytes(2, schema()))
    empty_provider = wire.message(wire.field_bytes(2, b""))
    return wire.message(wire.field_bytes(1, empty_provider), wire.field_bytes(3, entry))


def metadata_response() -> bytes:
    """``GetMetadata.Response``: data_sources = 3, each ``{type_name = 1}``."""
    return wire.field_bytes(3, wire.field_str(1, "archive_file"))


def diagnostic(summary: str, detail: str = "") -> bytes:
    return wire.message(wire.field_int(1, ERROR), wire.field_str(2, summary), wire.field_str(3, detail))


def decode_config(request: bytes) -> dict[str, Any]:
    """``ReadDataSource.Request.config`` (field 2), a DynamicValue in msgpack (1) or JSON (2)."""
    import msgpack

    value = wire.parse(wire.first_bytes(wire.parse(request), 2))
    as_json = wire.first_bytes(value, 2)
    if as_json:
        return dict(json.loads(as_json))
    decoded = msgpack.unpackb(
        wire.first_bytes(value, 1), raw=False, strict_map_key=False, ext_hook=lambda code, data: None
    )
    return dict(decoded or {})


# -- the archive ----------------------------------------------------------------------------------


class Archiver:
    """Builds each archive a read names, with the targets the harness wrote."""

    def __init__(self, environ: Mapping[str, str], cwd: Path) -> None:
        self.cwd = cwd
        self.targets: dict[str, ArchiveTarget] = {}
        self.tree = Path(environ[STAGED_TREE_ENV]) if environ.get(STAGED_TREE_ENV) else None
        self.anchor = Path(environ[ANCHOR_ENV]) if environ.get(ANCHOR_ENV) else None
        self.date_time: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)
        self.cache_dir = Path(tempfile.gettempdir()) / "lambda-harness-archive-cache"
        self.log = Path(environ[LOG_ENV]) if environ.get(LOG_ENV) else None
        self.locks = (
            Path(environ[LOCKS_ENV])
            if environ.get(LOCKS_ENV)
            else Path(tempfile.gettempdir()) / "lambda-harness-archive-locks"
        )
        path = environ.get(TARGETS_ENV)
        if path and Path(path).is_file():
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            self.targets = {k: ArchiveTarget.from_json(v) for k, v in (data.get("targets") or {}).items()}
            stamp = [int(x) for x in data.get("date_time") or self.date_time]
            self.date_time = (stamp[0], stamp[1], stamp[2], stamp[3], stamp[4], stamp[5])
            self.cache_dir = Path(data.get("cache_dir") or self.cache_dir)
        self._log_lock = threading.Lock()

    def key(self, output: Path) -> str:
        """The output path as the targets file names it: relative to the repo when inside it."""
        for base in (self.tree, self.anchor):
            if base is not None and output.is_relative_to(base):
                return output.relative_to(base).as_posix()
        return output.as_posix()

    def read(self, config: Mapping[str, Any]) -> dict[str, Any]:
        spec = ArchiveSpec.from_config(config, self.cwd)
        key = self.key(spec.output_path)
        target = self.targets.get(key)
        expected = target.expected_sha256 if target is not None else None

        def verify(built: Path, _stats: object) -> None:
            # Promote: a zip that is not the tested one never replaces it (the check runs on
            # the finished temporary file, before the rename).
            sha256 = hashlib.sha256(built.read_bytes()).hexdigest()
            if expected and sha256 != expected:
                self._record(key, sha256, target)
                raise HarnessError(
                    f"{key}: the archive built now (sha256 {sha256[:12]}...) is not the one that was "
                    f"tested (sha256 {expected[:12]}...); its source changed since the tests ran: run the "
                    "tests again, then promote"
                )

        with _locked(spec.output_path, self.locks / _lock_name(self.anchor, key)):
            entries, _lock = complete_entries(spec, target, DepsCache(self.cache_dir), PipInstaller())
            write_zip(entries, spec.output_path, date_time=self.date_time, before_replace=verify)
            data = spec.output_path.read_bytes()
        self._record(key, hashlib.sha256(data).hexdigest(), target)
        return state(config, data)

    def _record(self, key: str, sha256: str, target: ArchiveTarget | None) -> None:
        if self.log is None:
            return
        line = json.dumps({"output": key, "sha256": sha256, "complete": target is not None}) + "\n"
        with self._log_lock, self.log.open("a", encoding="utf-8") as fh:
            fh.write(line)


def _lock_name(anchor: Path | None, key: str) -> str:
    """One lock per output, however it is reached (staged tree or real folder): its key."""
    digest = hashlib.sha256(f"{anchor}\0{key}".encode()).hexdigest()[:16]
    return f"{digest}-{Path(key).name}.lock"


@contextmanager
def _locked(output: Path, lock: Path) -> Iterator[None]:
    """One build per output at a time (Terraform reads in parallel, several processes may run).

    ``lock`` is under the harness's folder: nothing but the zip itself is written beside it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def state(config: Mapping[str, Any], data: bytes) -> dict[str, Any]:
    """The data source's state: every attribute of the schema, computed ones filled in."""
    sha1, sha256, sha512 = (hashlib.new(n, data) for n in ("sha1", "sha256", "sha512"))
    out = {name: config.get(name) for name, *_ in ATTRIBUTES}
    out.update(
        id=sha1.hexdigest(),
        output_size=len(data),
        output_sha=sha1.hexdigest(),
        output_sha256=sha256.hexdigest(),
        output_base64sha256=base64.b64encode(sha256.digest()).decode(),
        output_sha512=sha512.hexdigest(),
        output_base64sha512=base64.b64encode(sha512.digest()).decode(),
        output_md5=hashlib.md5(data).hexdigest(),  # noqa: S324 - hashicorp/archive's attribute, not security
        source=list(config.get("source") or []),
    )
    return out


# -- the server -----------------------------------------------------------------------------------


def _handlers(archiver: Archiver, done: threading.Event) -> dict[str, Callable[[bytes, Any], bytes]]:
    def read(request: bytes, context: Any) -> bytes:
        try:
            result = archiver.read(decode_config(request))
        except (HarnessError, OSError, ValueError, KeyError) as exc:
            return wire.field_bytes(2, diagnostic(f"lambda-harness archive_file: {exc}"))
        return wire.field_bytes(1, wire.field_bytes(2, json.dumps(result).encode()))

    def shutdown(request: bytes, context: Any) -> bytes:
        done.set()
        return b""

    empty: Callable[[bytes, Any], bytes] = lambda request, context: b""  # noqa: E731
    return {
        "tfplugin6.Provider/GetMetadata": lambda request, context: metadata_response(),
        "tfplugin6.Provider/GetProviderSchema": lambda request, context: provider_schema_response(),
        "tfplugin6.Provider/ValidateProviderConfig": empty,
        "tfplugin6.Provider/ValidateDataResourceConfig": empty,
        "tfplugin6.Provider/ConfigureProvider": empty,
        "tfplugin6.Provider/ReadDataSource": read,
        "tfplugin6.Provider/StopProvider": empty,
        "plugin.GRPCController/Shutdown": shutdown,
    }


def self_signed() -> tuple[bytes, bytes, bytes]:
    """(key PEM, certificate PEM, certificate DER): a CA certificate for ``localhost``, as go-plugin makes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        key_encipherment=True,
        key_cert_sign=True,
        content_commitment=False,
        data_encipherment=False,
        key_agreement=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
    )


def serve(environ: Mapping[str, str]) -> int:
    """Run until Terraform says Shutdown (or kills the process)."""
    import grpc

    if environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE:
        sys.stderr.write(
            "This is a Terraform provider plugin (lambda-harness/archive); Terraform starts it.\n"
        )
        return 1
    done = threading.Event()
    archiver = Archiver(environ, Path.cwd())
    handlers = {
        path: grpc.unary_unary_rpc_method_handler(fn, request_deserializer=None, response_serializer=None)
        for path, fn in _handlers(archiver, done).items()
    }
    by_service: dict[str, dict[str, Any]] = {}
    for path, handler in handlers.items():
        service, method = path.split("/")
        by_service.setdefault(service, {})[method] = handler
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(service, methods) for service, methods in by_service.items()]
    )
    key_pem, cert_pem, cert_der = self_signed()
    # A fresh 0700 folder holds the socket; Terraform's client certificate is not asked for (its
    # P-521 key is not one gRPC's TLS offers for client auth, so Go would send none).
    folder = tempfile.mkdtemp(prefix="lh-tfprov-")
    socket_path = str(Path(folder) / "plugin.sock")
    server.add_secure_port("unix:" + socket_path, grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    server.start()
    certificate = base64.b64encode(cert_der).decode().rstrip("=")  # go-plugin reads RawStdEncoding
    sys.stdout.write(f"1|6|unix|{socket_path}|grpc|{certificate}\n")
    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Terraform handles Ctrl-C and tells us to stop
    try:
        done.wait()
    finally:
        server.stop(0.2)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def main() -> int:
    return serve(os.environ)


if __name__ == "__main__":
    sys.exit(main())
