"""What the Terraform deploys, as Terraform itself evaluates it: ``plan`` + ``show -json``.

Reading HCL statically (``packaging.tfconfig``) stops at module calls, ``for_each``/``count``,
values from ``.tfvars`` maps and ``data "archive_file"``. There the harness asks Terraform:
``Terraform.discovery_plan`` plans the staged copy against a private endpoint (the discovery
override nulls the file hashes, so nothing has to be built yet) and ``config_from_plan`` turns
``show -json`` into the same ``TfConfig`` the build reads statically: every function by its
deployed name, with handler, runtime, architecture and the zip it uploads; every layer and S3
object with its file; and where each function is declared. ``show -json`` carries no file or
line: those come from python-hcl2 (``sources``): the module call in the root module (with the
instance key) and the ``.tf``/``.tfvars`` line that holds the handler's literal, when it occurs
once.

The plan is cached under ``.harness/discovery.json``, keyed by every input of the plan
(``cache_key``: the configuration, the harness's tfvars, the world, the settings), so ``build``
then ``run`` plans once, and a changed ``harness.tfvars`` plans again. When the configuration
reads files (``file``, ``fileset``, ``templatefile``, ``data "archive_file"``, ...: ``reads``),
the key also covers every file of the project (its path; its content unless it is Python
source), so an edited ``function.json`` or a new function folder plans again while a handler
edit does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness import __version__
from lambda_harness.fsutil import write_json_atomic
from lambda_harness.packaging.tfconfig import TfArchive, TfConfig, TfFunction, TfLayer, TfS3Object
from lambda_harness.settings import Settings
from lambda_harness.terraform import reads, staging
from lambda_harness.terraform.sources import ModuleSource, find_literal, is_local_source, module_tree, shown
from lambda_harness.ui import UI

_MODULE = re.compile(r"module\.([\w-]+)(\[[^\]]*\])?")
_CODE_TYPES = ("aws_lambda_function", "aws_lambda_layer_version")
_S3_OBJECT_TYPES = ("aws_s3_object", "aws_s3_bucket_object")


# -- when static reading is not enough ---------------------------------------------------------


def needs_discovery(static: TfConfig, terraform_dir: Path) -> str | None:
    """Why the build must ask Terraform (None: the static reading sees everything)."""
    return _module_reason(terraform_dir) or _root_reason(static, terraform_dir)


def _module_reason(terraform_dir: Path) -> str | None:
    for call in ModuleSource(terraform_dir).module_calls():
        source = str(call.body.get("source", ""))
        if not is_local_source(source):
            return f'module "{call.labels[0]}" comes from {source}'
    for folder in module_tree(terraform_dir)[1:]:
        if any(b.kind == "resource" and b.labels[0] in _CODE_TYPES for b in ModuleSource(folder).blocks):
            return f"functions or layers are declared in the local module {folder.name}"
    return None


def _root_reason(static: TfConfig, terraform_dir: Path) -> str | None:
    root = ModuleSource(terraform_dir)
    if root.find("data", "archive_file") is not None:
        return 'a data "archive_file" builds a zip'
    repeated = [
        b
        for b in root.blocks
        if b.kind == "resource" and b.labels[0] in _CODE_TYPES and ("for_each" in b.body or "count" in b.body)
    ]
    if repeated:
        return f"{repeated[0].labels[0]}.{repeated[0].labels[1]} uses for_each/count"
    for fn in static.functions:  # a name only Terraform knows does not matter to the build
        if fn.handler is None or (fn.filename_expr is not None and fn.filename is None):
            return f"{fn.address} has a handler or filename only Terraform can evaluate"
    for layer in static.layers:
        if layer.filename_expr is not None and layer.filename is None:
            return f"{layer.address} has a filename only Terraform can evaluate"
    return None


# -- the cache ------------------------------------------------------------------------------------


_CONFIG_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".hcl")


def _hash_folder(digest: Any, folder: Path) -> None:
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.is_file() and path.name.endswith(_CONFIG_SUFFIXES):
            digest.update(f"{path}\0".encode() + path.read_bytes() + b"\0")


def cache_key(settings: Settings, files: Mapping[str, str] | None = None) -> str:
    """A hash of every input of the plan: the configuration files of the root and its local
    modules, the harness's variable files (``tfvars``: a name built from ``var.env`` changes with
    them), the world (what the plan's lookups read), the modules ``init`` installed, the
    settings the staged copy is made from (region, backend, driver, folders, workspace), and,
    when the configuration reads files, every project file it may read (``reads.read_files``, or
    ``files`` when the caller has them): its path, and its content unless it is Python source."""
    digest = hashlib.sha256(__version__.encode())
    for folder in module_tree(settings.terraform_dir):
        _hash_folder(digest, folder)
    for rel, content in (reads.read_files(settings) if files is None else files).items():
        digest.update(f"read {rel}\0{content}\n".encode())
    for path in settings.tfvars:
        digest.update(
            f"tfvars {path}\0".encode() + (path.read_bytes() if path.is_file() else b"<none>") + b"\0"
        )
    world = settings.world_dir
    if world is not None and world.is_dir():
        for folder in module_tree(world):
            _hash_folder(digest, folder)
    installed = settings.terraform_dir / ".terraform" / "modules" / "modules.json"
    if installed.is_file():
        digest.update(b"modules.json\0" + installed.read_bytes())
    shape: tuple[object, ...] = (
        settings.region,
        settings.backend,
        settings.tf_driver,
        settings.terraform_dir,
        world,
    )
    if settings.workspace:  # names built from terraform.workspace change with it
        shape += (settings.workspace,)
    digest.update(repr(shape).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheCheck:
    """The cached plan when its key still matches, and why it does not."""

    key: str
    files: Mapping[str, str]
    show: dict[str, Any] | None
    changed: tuple[str, ...] = ()  # the read files added, removed or changed since the cached plan


def check_cache(settings: Settings) -> CacheCheck:
    """Compare ``.harness/discovery.json`` with the inputs now (each file is read once)."""
    files = reads.read_files(settings)
    key = cache_key(settings, files)
    try:
        data = json.loads(settings.paths.discovery.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return CacheCheck(key, files, None)
    show = data.get("show")
    if data.get("key") == key and isinstance(show, dict):
        return CacheCheck(key, files, show)
    before = data.get("reads") if isinstance(data.get("reads"), dict) else {}
    changed = sorted(k for k in set(before) | set(files) if before.get(k) != files.get(k)) if before else []
    return CacheCheck(key, files, None, tuple(changed))


def cached_plan(settings: Settings) -> dict[str, Any] | None:
    """The cached ``show -json`` when its key still matches, else None."""
    return check_cache(settings).show


def save_plan(settings: Settings, show: Mapping[str, Any], check: CacheCheck | None = None) -> None:
    """Cache ``show -json`` with its key: ``check``'s, computed BEFORE the plan (the plan itself
    writes the archives it reads), else the inputs now."""
    files = reads.read_files(settings) if check is None else check.files
    key = cache_key(settings, files) if check is None else check.key
    write_json_atomic(settings.paths.discovery, {"key": key, "reads": dict(files), "show": show})


# -- show -json -> TfConfig ----------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where the plan ran, so its relative paths map back to the repo."""

    project_dir: Path
    terraform_dir: Path  # the real root module
    workdir: Path  # the staged root module (terraform's working directory)
    tree: Path  # the staged tree root
    anchor: Path  # the real folder the tree mirrors

    def real(self, value: str | None) -> Path | None:
        """A path from the plan (relative to the staged workdir) as a path in the real repo."""
        if not value:
            return None
        path = Path(os.path.normpath(self.workdir / value))
        if path.is_relative_to(self.tree):
            return self.anchor / path.relative_to(self.tree)
        return path


def _resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _module_path(address: str) -> list[tuple[str, str]]:
    """``module.a["x"].module.b[0].aws_x.y`` -> [("a", '["x"]'), ("b", "[0]")]."""
    head = address.rsplit(".", 2)[0] if address.startswith("module.") else ""
    return [(m.group(1), m.group(2) or "") for m in _MODULE.finditer(head)]


def _config_module(root: Mapping[str, Any], calls: list[str]) -> Mapping[str, Any]:
    module = root
    for name in calls:
        module = module.get("module_calls", {}).get(name, {}).get("module", {})
    return module


def _folder_of(layout: Layout, root_cfg: Mapping[str, Any], calls: list[str]) -> Path:
    folder, module = layout.terraform_dir, root_cfg
    for name in calls:
        call = module.get("module_calls", {}).get(name, {})
        folder = Path(os.path.normpath(folder / str(call.get("source", "."))))
        module = call.get("module", {})
    return folder


class _Reader:
    """Reads one ``show -json`` (planned values + configuration) into build inputs."""

    def __init__(self, show: Mapping[str, Any], layout: Layout) -> None:
        self.layout = layout
        self.root_cfg = show.get("configuration", {}).get("root_module", {})
        self.planned = list(_resources(show.get("planned_values", {}).get("root_module", {})))
        self.by_address = {str(r.get("address")): r for r in self.planned}
        # Data sources read while planning are in the prior state (archive_file: by our shim).
        prior = (show.get("prior_state") or {}).get("values", {}).get("root_module", {})
        self.read_data = [r for r in _resources(prior) if r.get("mode") == "data"]

    def config(self) -> TfConfig:
        config = TfConfig(terraform_dir=self.layout.terraform_dir)
        for res in self.planned:
            if res.get("mode") != "managed":
                continue
            rtype = res.get("type")
            if rtype == "aws_lambda_function":
                config.functions.append(self.function(res))
            elif rtype == "aws_lambda_layer_version":
                config.layers.append(self.layer(res))
            elif rtype in _S3_OBJECT_TYPES:
                config.s3_objects.append(self.s3_object(res))
        for res in self.read_data:
            if res.get("type") == "archive_file":
                config.archives.append(self.archive(res))
        return config

    def archive(self, res: Mapping[str, Any]) -> TfArchive:
        """A ``data "archive_file"`` with its paths mapped to the real repo."""
        values = dict(res.get("values") or {})
        for key in ("output_path", "source_dir", "source_file"):
            real = self.layout.real(values.get(key))
            values[key] = str(real) if real is not None else None
        tf_file, line, _declared = self._declared(res)
        return TfArchive(str(res.get("address")), Path(str(values["output_path"])), values, tf_file, line)

    def _declared(self, res: Mapping[str, Any]) -> tuple[Path, int | None, str]:
        """(file, line, description) of where the team declares this instance."""
        address = str(res.get("address", ""))
        path = _module_path(address)
        project = self.layout.project_dir
        if path:
            name, key = path[0]
            call = ModuleSource(self.layout.terraform_dir).find("module", name)
            if call is not None:
                text = f'{call.where(project)}: module "{name}"' + (f" key {key[1:-1]}" if key else "")
                if len(path) > 1:  # the root call alone does not say which nested instance
                    text += " (" + ".".join(f"module.{n}{k}" for n, k in path) + ")"
                return call.file, call.line, text
        rtype, rname = str(res.get("type")), str(res.get("name"))
        folder = _folder_of(self.layout, self.root_cfg, [n for n, _ in path])
        kind = "data" if res.get("mode") == "data" else "resource"
        block = ModuleSource(folder).find(kind, rtype, rname)
        index = res.get("index")
        suffix = f" key {json.dumps(index)}" if index is not None else ""
        if block is None:
            return folder, None, f"{address}{suffix}"
        return block.file, block.line, f'{block.where(project)}: resource "{rtype}" "{rname}"{suffix}'

    def function(self, res: Mapping[str, Any]) -> TfFunction:
        v = res.get("values") or {}
        tf_file, line, declared = self._declared(res)
        name = str(v.get("function_name") or res.get("address"))
        handler = v.get("handler")
        return TfFunction(
            address=str(res.get("address")),
            name=name,
            handler=str(handler) if handler else None,
            runtime=str(v["runtime"]) if v.get("runtime") else None,
            architectures=tuple(str(a) for a in (v.get("architectures") or ["x86_64"])),
            tf_file=tf_file,
            line=line,
            filename=self.layout.real(v.get("filename")),
            filename_expr=str(v["filename"]) if v.get("filename") else None,
            s3_bucket=str(v["s3_bucket"]) if v.get("s3_bucket") else None,
            s3_key=str(v["s3_key"]) if v.get("s3_key") else None,
            memory_size=_int(v.get("memory_size")),
            timeout=_int(v.get("timeout")),
            package_type=str(v.get("package_type") or "Zip"),
            declared=f"{declared} deploys {name}",
            handler_at=self._handler_literal(res, str(handler)) if handler else None,
            layer_files=tuple(self._layer_files(res)),
        )

    def _handler_literal(self, res: Mapping[str, Any], handler: str) -> str | None:
        calls = [n for n, _ in _module_path(str(res.get("address", "")))]
        folders = [_folder_of(self.layout, self.root_cfg, calls[:i]) for i in range(len(calls) + 1)]
        hits = find_literal(folders, handler)
        if len(hits) != 1:
            return None
        return f"{shown(hits[0][0], self.layout.project_dir)}:{hits[0][1]}"

    def _layer_files(self, res: Mapping[str, Any]) -> list[Path]:
        """The zips of the layers a function names, through module variables, one hop per level."""
        path = _module_path(str(res.get("address", "")))
        module = _config_module(self.root_cfg, [n for n, _ in path])
        wanted = f"aws_lambda_function.{res.get('name')}"
        resource: Mapping[str, Any] = next(
            (r for r in module.get("resources", []) if r.get("address") == wanted), {}
        )
        refs = (resource.get("expressions", {}).get("layers") or {}).get("references", [])
        files: list[Path] = []
        for address in self._follow(refs, path):
            found = self.by_address.get(address) or next(
                (r for a, r in self.by_address.items() if a.startswith(f"{address}[")), None
            )  # a layer with count/for_each: the first instance the reference names
            filename = self.layout.real((found or {}).get("values", {}).get("filename"))
            if filename is not None and filename not in files:
                files.append(filename)
        return files

    def _follow(self, refs: list[str], path: list[tuple[str, str]]) -> list[str]:
        """Planned addresses of the layer resources ``refs`` reach (``var.x`` goes up a level)."""
        prefix = "".join(f"module.{n}{k}." for n, k in path)
        out: list[str] = []
        for ref in refs:
            layer = re.match(r"^aws_lambda_layer_version\.[\w-]+", ref)
            if layer:
                out.append(prefix + layer.group(0))
            elif ref.startswith("var.") and path:
                parent = _config_module(self.root_cfg, [n for n, _ in path[:-1]])
                args = parent.get("module_calls", {}).get(path[-1][0], {}).get("expressions", {})
                out += self._follow((args.get(ref.split(".")[1]) or {}).get("references", []), path[:-1])
        return out

    def layer(self, res: Mapping[str, Any]) -> TfLayer:
        v = res.get("values") or {}
        tf_file, line, _declared = self._declared(res)
        return TfLayer(
            address=str(res.get("address")),
            name=str(v.get("layer_name") or res.get("address")),
            filename=self.layout.real(v.get("filename")),
            filename_expr=str(v["filename"]) if v.get("filename") else None,
            compatible_runtimes=tuple(str(r) for r in v.get("compatible_runtimes") or ()),
            compatible_architectures=tuple(str(a) for a in v.get("compatible_architectures") or ()),
            tf_file=tf_file,
            line=line,
        )

    def s3_object(self, res: Mapping[str, Any]) -> TfS3Object:
        v = res.get("values") or {}
        tf_file, _line, _declared = self._declared(res)
        return TfS3Object(
            address=str(res.get("address")),
            key=str(v["key"]) if v.get("key") else None,
            source=self.layout.real(v.get("source")),
            source_expr=str(v["source"]) if v.get("source") else None,
            tf_file=tf_file,
        )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def config_from_plan(show: Mapping[str, Any], layout: Layout) -> TfConfig:
    """The build's view of what ``show -json`` says Terraform deploys."""
    return _Reader(show, layout).config()


EndpointFactory = Callable[[], AbstractContextManager[str]]


def layout_of(settings: Settings) -> Layout:
    """Where the staged copy of ``settings``' Terraform is, and what it mirrors."""
    staged = staging.layout(
        settings.harness_dir, settings.backend, settings.project_dir, settings.terraform_dir
    )
    return Layout(
        project_dir=settings.project_dir,
        terraform_dir=settings.terraform_dir,
        workdir=staged.workdir,
        tree=staged.tree,
        anchor=staging.anchor_of(settings.project_dir, settings.terraform_dir),
    )


def will_plan(settings: Settings) -> bool:
    """Whether ``discover`` would plan now (the static reading is not enough and no cached plan
    matches): ``run`` then starts its endpoint before the build, for that plan to use."""
    from lambda_harness.packaging.tfconfig import read_config

    if not settings.terraform_dir.is_dir():
        return False
    if needs_discovery(read_config(settings.terraform_dir), settings.terraform_dir) is None:
        return False
    return cached_plan(settings) is None


def discover(settings: Settings, ui: UI, endpoint: EndpointFactory) -> TfConfig | None:
    """Terraform's view of what the repo deploys, or None when the static reading sees it all.

    ``endpoint`` gives an endpoint for the plan's data sources (nothing is created on it); it
    is only entered when the cached plan is stale.
    """
    from lambda_harness.packaging.tfconfig import read_config
    from lambda_harness.terraform.preflight import with_world
    from lambda_harness.terraform.runner import Terraform

    if not settings.terraform_dir.is_dir():
        return None
    why = needs_discovery(read_config(settings.terraform_dir), settings.terraform_dir)
    if why is None:
        return None
    check = check_cache(settings)
    show = check.show
    if show is None:
        if check.changed:
            listed = ", ".join(check.changed[:3]) + (
                f" and {len(check.changed) - 3} more" if len(check.changed) > 3 else ""
            )
            why = f"{why}; changed since the last plan: {listed}"
        ui.info(f"reading what Terraform deploys from its own plan ({why})")
        with endpoint() as url:
            # As before an apply: the world first, every missing variable or lookup named at once.
            tf = Terraform(settings, ui, url, report=False)
            show = with_world(tf, tf.discovery_plan)
        save_plan(settings, show, check)
    return config_from_plan(show, layout_of(settings))
