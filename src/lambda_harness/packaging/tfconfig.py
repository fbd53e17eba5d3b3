"""Static reading of the worker repo's Terraform (``*.tf`` of the root module).

No ``terraform`` run: python-hcl2 parses the files, and a small evaluator
resolves the few expressions that locate the deployment package
(``"${path.module}/../dists.zip"``, ``filebase64sha256(...)``, ``local.x``,
``var.x`` with a default or a tfvars value). Anything it cannot resolve
statically is reported as unresolved, never guessed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os.path
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hcl2

from lambda_harness.errors import BuildError, ConfigError
from lambda_harness.settings import Settings

# Functions that only wrap the path of the zip: their argument is the path we want.
_PATH_WRAPPERS = (
    "filebase64sha256",
    "filebase64sha512",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "abspath",
)
_S3_OBJECT_TYPES = ("aws_s3_object", "aws_s3_bucket_object")
DEFAULT_DIST_NAME = "dists.zip"


@dataclass(frozen=True)
class TfFunction:
    """One ``aws_lambda_function`` resource as written in the .tf files."""

    address: str
    name: str | None
    handler: str | None
    runtime: str | None
    architectures: tuple[str, ...]
    tf_file: Path
    line: int | None
    filename: Path | None
    filename_expr: str | None
    s3_bucket: str | None
    s3_key: str | None
    memory_size: int | None
    timeout: int | None
    package_type: str | None = None
    handler_line: int | None = None
    # From Terraform's own evaluation (terraform.discovery), when the static reading stops:
    declared: str | None = None  # 'terraform/main.tf:17: module "worker" key "a" deploys billing-a'
    handler_at: str | None = None  # the .tf/.tfvars line holding the handler's literal
    layer_files: tuple[Path, ...] = ()  # the zips of the layers it names
    layer_refs: tuple[str, ...] = ()  # aws_lambda_layer_version addresses its layers name

    @property
    def label(self) -> str:
        """The function name when literal, else the resource address."""
        return self.name or self.address


@dataclass(frozen=True)
class TfS3Object:
    """An ``aws_s3_object`` that uploads a local file (``source = ...``)."""

    address: str
    key: str | None
    source: Path | None
    source_expr: str | None
    tf_file: Path


@dataclass(frozen=True)
class TfLayer:
    """One ``aws_lambda_layer_version`` as written in the .tf files."""

    address: str
    name: str | None
    filename: Path | None
    filename_expr: str | None
    compatible_runtimes: tuple[str, ...]
    compatible_architectures: tuple[str, ...]
    tf_file: Path
    line: int | None = None


@dataclass(frozen=True)
class TfArchive:
    """One ``data "archive_file"`` as Terraform evaluated it (``terraform.discovery``)."""

    address: str
    output_path: Path
    config: dict[str, Any]  # its attributes with every path absolute, in the real repo
    tf_file: Path
    line: int | None = None


@dataclass
class TfConfig:
    """What the root module declares, as far as the build needs it."""

    terraform_dir: Path
    functions: list[TfFunction] = field(default_factory=list)
    s3_objects: list[TfS3Object] = field(default_factory=list)
    layers: list[TfLayer] = field(default_factory=list)
    archives: list[TfArchive] = field(default_factory=list)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- parsing


def parse_file(path: Path, text: str | None = None) -> dict[str, Any]:
    """One ``.tf``/``.tf.json``/``.tfvars`` file in python-hcl2's dict form (``ConfigError`` when invalid)."""
    return _parse_text(path, path.read_text(encoding="utf-8") if text is None else text)


def loads_hcl(text: str) -> dict[str, Any]:
    """HCL native syntax as plain data: blocks are lists of dicts, strings without their quotes.

    Bad syntax raises whatever lark raises (many exception types): callers wrap it with the
    file's name. A fresh copy each call (see ``parsed_hcl``).
    """
    return copy.deepcopy(parsed_hcl(text)[1])


def parsed_hcl(text: str) -> tuple[Any, dict[str, Any]]:
    """python-hcl2's lark tree of ``text`` and its plain-data form, parsed once per content.

    One run reads the root module several times (the runtime check, discovery, the zip's
    checks, then the Terraform pre-checks, ``terraform.hcl``'s blocks), and python-hcl2 takes
    20-80 ms a file: on the reference repo that was 32 parses and 1-2 s of a warm run. This is
    the harness's one parse cache: keyed on the content's sha256 (a rewrite is a new key,
    whatever its size or mtime), least recently used first out past ``_HCL_PARSED_MAX``
    entries, so a long ``watch`` keeps it bounded. Both are shared: callers never modify
    them, and ``loads_hcl`` hands out copies of the data.
    """
    key = hashlib.sha256(text.encode("utf-8")).digest()
    with _hcl_lock:  # the second plan's thread reads Terraform files too
        parsed = _hcl_parsed.pop(key, None)
        if parsed is not None:
            _hcl_parsed[key] = parsed  # (re)inserted last: the dict's order is least recently used first
            return parsed
    tree = hcl2.parses_to_tree(text)
    data = dict(hcl2.serialize(hcl2.transform(tree), serialization_options=_HCL_OPTIONS))
    with _hcl_lock:
        while len(_hcl_parsed) >= _HCL_PARSED_MAX:
            _hcl_parsed.pop(next(iter(_hcl_parsed)))
        return _hcl_parsed.setdefault(key, (tree, data))


_HCL_OPTIONS = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
_HCL_PARSED_MAX = 4096
_hcl_parsed: dict[bytes, tuple[Any, dict[str, Any]]] = {}
_hcl_lock = threading.Lock()


def _parse_text(path: Path, text: str) -> dict[str, Any]:
    if path.name.endswith(".json"):
        return _parse_json_file(path, text)
    try:
        return loads_hcl(text)
    except Exception as exc:  # lark raises many exception types for bad syntax
        raise ConfigError(f"{path}: cannot parse Terraform ({exc}); run `terraform validate`") from exc


def _parse_json_file(path: Path, text: str) -> dict[str, Any]:
    """Terraform's JSON syntax (``*.tf.json``, ``*.tfvars.json``): the same shape hcl2 gives."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); run `terraform validate`") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a Terraform JSON file must hold an object at the top level")
    return data


def config_files(terraform_dir: Path) -> list[Path]:
    """The root module's configuration files, native and JSON syntax, in name order."""
    return sorted([*terraform_dir.glob("*.tf"), *terraform_dir.glob("*.tf.json")], key=lambda p: p.name)


def _blocks(data: Mapping[str, Any], kind: str) -> list[Any]:
    value = data.get(kind, [])
    return value if isinstance(value, list) else [value]


def read_config(terraform_dir: Path, tfvars: Sequence[Path] = ()) -> TfConfig:
    """Parse every ``*.tf`` and ``*.tf.json`` in ``terraform_dir`` (the root module; not sub-modules);
    variables from their defaults, Terraform's own variable files, then ``tfvars`` (the harness's)."""
    config = TfConfig(terraform_dir=terraform_dir)
    if not terraform_dir.is_dir():
        return config
    texts = [(p, p.read_text(encoding="utf-8")) for p in config_files(terraform_dir)]
    parsed = [(p, text, _parse_text(p, text)) for p, text in texts]
    for _path, _text, data in parsed:
        for block in _blocks(data, "locals"):
            config.locals.update(block)
        for block in _blocks(data, "variable"):
            for name, body in block.items():
                if isinstance(body, Mapping) and "default" in body:
                    config.variables[name] = body["default"]
    config.variables.update(_read_tfvars(terraform_dir))
    for extra in tfvars:
        if extra.is_file():
            config.variables.update(parse_file(extra))
    for path, text, data in parsed:
        for block in _blocks(data, "resource"):
            for rtype, named in block.items():
                for rname, body in named.items():
                    _add_resource(config, path, text, rtype, rname, body)
    files = {layer.address: layer.filename for layer in config.layers}
    config.functions = [
        replace(fn, layer_files=tuple(p for ref in fn.layer_refs if (p := files.get(ref)) is not None))
        for fn in config.functions
    ]
    return config


def _add_resource(  # noqa: PLR0917  (private: one resource block, as read)
    config: TfConfig, path: Path, text: str, rtype: str, rname: str, body: Mapping[str, Any]
) -> None:
    if rtype == "aws_lambda_function":
        config.functions.append(_function(config, path, text, rname, body))
    elif rtype in _S3_OBJECT_TYPES:
        config.s3_objects.append(_s3_object(config, path, rtype, rname, body))
    elif rtype == "aws_lambda_layer_version":
        config.layers.append(_layer(config, path, text, rname, body))


def _read_tfvars(terraform_dir: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    files = [
        terraform_dir / "terraform.tfvars",
        terraform_dir / "terraform.tfvars.json",
        *sorted(terraform_dir.glob("*.auto.tfvars")),
        *sorted(terraform_dir.glob("*.auto.tfvars.json")),
    ]
    for path in files:
        if path.is_file():
            values.update(parse_file(path))
    return values


def read_functions(terraform_dir: Path) -> list[TfFunction]:
    """Every ``aws_lambda_function`` of the root module, in file order."""
    return read_config(terraform_dir).functions


def _find_line(text: str, pattern: str, start: int = 0) -> int | None:
    match = re.compile(pattern, re.MULTILINE).search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _function(config: TfConfig, path: Path, text: str, rname: str, body: Mapping[str, Any]) -> TfFunction:
    head = rf'^[ \t]*resource\s+"aws_lambda_function"\s+"{re.escape(rname)}"'
    line = _find_line(text, head)
    handler_line = None
    if line is not None:
        offset = len("".join(text.splitlines(keepends=True)[: line - 1]))
        found = _find_line(text[offset:], r"^[ \t]*handler\s*=")
        handler_line = line + found - 1 if found else None
    # AWS's default when absent; an unresolvable expression leaves it unknown (empty).
    raw_archs = body.get("architectures") or ["x86_64"]
    archs = [evaluate_string(config, str(a)) for a in raw_archs] if isinstance(raw_archs, list) else [None]
    filename_expr = _str_or_none(body.get("filename"))
    return TfFunction(
        address=f"aws_lambda_function.{rname}",
        name=evaluate_string(config, _str_or_none(body.get("function_name"))),
        handler=evaluate_string(config, _str_or_none(body.get("handler"))),
        runtime=evaluate_string(config, _str_or_none(body.get("runtime"))),
        architectures=tuple(a for a in archs if a) if all(archs) else (),
        tf_file=path,
        line=line,
        filename=evaluate_path(config, filename_expr),
        filename_expr=filename_expr,
        s3_bucket=_str_or_none(body.get("s3_bucket")),
        s3_key=_str_or_none(body.get("s3_key")),
        memory_size=_int_or_none(body.get("memory_size")),
        timeout=_int_or_none(body.get("timeout")),
        package_type=_str_or_none(body.get("package_type")),
        handler_line=handler_line,
        layer_refs=tuple(re.findall(r"\baws_lambda_layer_version\.[\w-]+", str(body.get("layers") or ""))),
    )


def _s3_object(config: TfConfig, path: Path, rtype: str, rname: str, body: Mapping[str, Any]) -> TfS3Object:
    source_expr = _str_or_none(body.get("source"))
    return TfS3Object(
        address=f"{rtype}.{rname}",
        key=evaluate_string(config, _str_or_none(body.get("key"))),
        source=evaluate_path(config, source_expr),
        source_expr=source_expr,
        tf_file=path,
    )


def _layer(config: TfConfig, path: Path, text: str, rname: str, body: Mapping[str, Any]) -> TfLayer:
    head = rf'^[ \t]*resource\s+"aws_lambda_layer_version"\s+"{re.escape(rname)}"'
    filename_expr = _str_or_none(body.get("filename"))

    def strings(key: str) -> tuple[str, ...]:
        raw = body.get(key) or []
        values = [evaluate_string(config, str(v)) for v in raw] if isinstance(raw, list) else []
        return tuple(v for v in values if v)

    return TfLayer(
        address=f"aws_lambda_layer_version.{rname}",
        name=evaluate_string(config, _str_or_none(body.get("layer_name"))),
        filename=evaluate_path(config, filename_expr),
        filename_expr=filename_expr,
        compatible_runtimes=strings("compatible_runtimes"),
        compatible_architectures=strings("compatible_architectures"),
        tf_file=path,
        line=_find_line(text, head),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None  # an expression (var.timeout): unknown statically


# ---------------------------------------------------------------- evaluation


class _Unresolved(Exception):
    """An expression needs values only Terraform knows."""


def _matching_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` at ``start`` (quotes respected)."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise _Unresolved(text)


def _template(config: TfConfig, text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text.startswith("${", i):
            end = _matching_brace(text, i + 1)
            out.append(_expr(config, text[i + 2 : end].strip()))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _expr(config: TfConfig, expr: str) -> str:
    if expr in ("path.module", "path.root", "path.cwd"):
        return str(config.terraform_dir)
    if expr.startswith('"') and expr.endswith('"'):
        inner = expr[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return _template(config, inner)
    call = re.fullmatch(r"(\w+)\((.*)\)", expr, re.DOTALL)
    if call and call.group(1) in _PATH_WRAPPERS:
        return _expr(config, call.group(2).strip())
    ref = re.fullmatch(r"(local|var)\.(\w+)", expr)
    if ref:
        table = config.locals if ref.group(1) == "local" else config.variables
        if ref.group(2) in table and isinstance(table[ref.group(2)], str | int | float):
            return _template(config, str(table[ref.group(2)]))
    raise _Unresolved(expr)


def evaluate_string(config: TfConfig, value: str | None) -> str | None:
    """The literal value of a string attribute, or None when only Terraform knows it."""
    if value is None:
        return None
    try:
        return _template(config, value)
    except (_Unresolved, RecursionError):
        return None


def evaluate_path(config: TfConfig, value: str | None) -> Path | None:
    """A file path attribute resolved against the root module folder (Terraform's cwd)."""
    text = evaluate_string(config, value)
    if not text:
        return None
    path = Path(text)
    if not path.is_absolute():
        path = config.terraform_dir / path
    return Path(os.path.normpath(path))


# ---------------------------------------------------------------- the zip's location


@dataclass(frozen=True)
class DistTarget:
    """Where dists.zip goes, why, and which functions upload it directly."""

    path: Path
    reason: str
    notes: tuple[str, ...] = ()
    direct_upload: bool = False


def s3_object_for(config: TfConfig, fn: TfFunction) -> TfS3Object | None:
    """The ``aws_s3_object`` whose upload a function's ``s3_key`` refers to."""
    if fn.s3_key is None:
        return None
    ref = re.fullmatch(r"\$\{(aws_s3_(?:bucket_)?object)\.(\w+)\.(?:key|id)\}", fn.s3_key)
    for obj in config.s3_objects:
        if ref and obj.address == f"{ref.group(1)}.{ref.group(2)}":
            return obj
        if not ref and obj.key is not None and obj.key == evaluate_string(config, fn.s3_key):
            return obj
    return None


def code_path(config: TfConfig, fn: TfFunction) -> tuple[Path | None, str | None]:
    """The local zip a function's code comes from and how it was found, or (None, why not)."""
    if fn.filename_expr is not None:
        if fn.filename is None:
            return None, f'{fn.address} filename = "{fn.filename_expr}" cannot be resolved statically'
        return fn.filename, None
    obj = s3_object_for(config, fn)
    if obj is None:
        return None, None
    if obj.source is None:
        return None, f'{obj.address} source = "{obj.source_expr}" cannot be resolved statically'
    return obj.source, None


def find_dist_target(settings: Settings, config: TfConfig | None = None) -> DistTarget:
    """Decide where the zip goes: ``settings.dist``, else what Terraform references, else the default."""
    config = config if config is not None else read_config(settings.terraform_dir)
    direct = any(fn.filename_expr is not None for fn in config.functions)
    paths: dict[Path, list[str]] = {}
    notes: list[str] = []
    for fn in config.functions:
        path, why = code_path(config, fn)
        if path is not None:
            paths.setdefault(path, []).append(fn.address)
        elif why:
            notes.append(why)
    if settings.dist is not None:
        return DistTarget(settings.dist, "the dist setting", tuple(notes), direct)
    if len(paths) > 1:
        listing = "; ".join(f"{p} ({', '.join(a)})" for p, a in sorted(paths.items()))
        raise BuildError(
            f"{settings.terraform_dir}: functions reference different zips: {listing}. "
            "One dists.zip serves every function: point them at the same file, "
            'or set dist = "..." under [tool.lambda-harness] in pyproject.toml'
        )
    if paths:
        ((path, addresses),) = paths.items()
        return DistTarget(path, f"referenced by {addresses[0]}", tuple(notes), direct)
    default = settings.project_dir / DEFAULT_DIST_NAME
    if notes:
        notes.append(f"using the default {default}; set dist under [tool.lambda-harness] to choose")
    return DistTarget(default, "default", tuple(notes), direct)
