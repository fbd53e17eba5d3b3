"""The deployed functions, their triggers and the API Gateway APIs, read from Terraform state.

Written to ``.harness/inventory.json`` after every harness apply; the pytest
plugin reads it to know which functions exist, what triggers them and in which
``.tf`` file each one is declared (so a failure can point there), and which APIs
(REST and HTTP) serve which routes at which local URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lambda_harness.errors import ConfigError
from lambda_harness.fsutil import write_json_atomic
from lambda_harness.terraform.apis import (
    HARNESS_API_PREFIX,
    LOCALSTACK_API_PREFIX,
    ApiStage,
    ApiUrls,
    DeployedApi,
    collect_apis,
)
from lambda_harness.terraform.iam import IamIndex

__all__ = [
    "HARNESS_API_PREFIX",
    "LOCALSTACK_API_PREFIX",
    "ApiStage",
    "ApiUrls",
    "DeployedApi",
    "DeployedFunction",
    "Inventory",
    "Trigger",
]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Trigger:
    """Something that invokes a function.

    ``kind`` is ``s3``, ``sqs``, ``sns``, ``schedule``, ``event``, ``api``, ``url``, ``logs``,
    ``kinesis``, ``dynamodb`` or ``kafka``; ``source`` is a bucket, a queue/stream/table ARN, a topic
    ARN, a rule name, a URL, an API id or a log group name.
    """

    kind: str
    source: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployedFunction:
    """One ``aws_lambda_function`` as deployed (values from state, not from the .tf text)."""

    name: str
    handler: str
    runtime: str
    architecture: str
    environment: dict[str, str]
    timeout: int
    memory_size: int
    role: str
    tf_file: Path | None
    address: str
    triggers: list[Trigger] = field(default_factory=list)
    arn: str = ""
    code_sha256: str = ""
    tf_line: int | None = None

    @property
    def runnable(self) -> bool:
        """Whether the embedded endpoint runs it: a Python runtime (not Node.js, Java,
        ``provided.*`` or a container image, whose runtime is empty)."""
        return self.runtime.startswith("python")


@dataclass(frozen=True)
class Inventory:
    """Every function the harness deployed, where, and how each is triggered; the APIs."""

    endpoint_url: str
    region: str
    functions: list[DeployedFunction]
    apis: list[DeployedApi] = field(default_factory=list)
    #: ``address.attribute`` the idempotency check waived for this deployment (``idempotency-waive``).
    waived: list[str] = field(default_factory=list)
    iam: IamIndex = field(default_factory=IamIndex)  # the functions' roles and where they are declared

    def names(self) -> list[str]:
        """Function names, sorted."""
        return sorted(f.name for f in self.functions)

    def get(self, name: str) -> DeployedFunction:
        """The function called ``name``; ConfigError listing the known ones otherwise."""
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise ConfigError(
            f"no function {name!r} in the inventory; deployed: {', '.join(self.names()) or 'none'}"
        )

    def api(self, name: str) -> DeployedApi:
        """The API with this Terraform name (or API name, or id); ConfigError listing the known ones."""
        for key in ("name", "api_name", "api_id"):
            found = [a for a in self.apis if getattr(a, key) == name]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise ConfigError(
                    f"{len(found)} APIs are called {name!r}: {', '.join(a.address for a in found)}; "
                    "use the Terraform name"
                )
        known = ", ".join(f"{a.name} ({a.kind} API {a.api_name})" for a in self.apis) or "none"
        raise ConfigError(f"no API {name!r} in the inventory; deployed APIs: {known}")

    @classmethod
    def from_show_json(
        cls,
        show: Mapping[str, Any],
        terraform_dir: Path,
        *,
        endpoint_url: str = "",
        region: str | None = None,
        module_dirs: Mapping[str, Path] | None = None,
        api_prefix: str = HARNESS_API_PREFIX,
    ) -> Inventory:
        """Build from ``terraform show -json`` (state); ``terraform_dir`` is scanned for tf_file.

        ``api_prefix`` is the path the endpoint serves APIs under (LocalStack: ``/_aws/execute-api``).
        """
        resources = list(all_resources(show.get("values", {}).get("root_module", {})))
        functions = [
            _function(r, terraform_dir, module_dirs or {})
            for r in resources
            if r.get("type") == "aws_lambda_function" and r.get("mode") == "managed"
        ]
        triggers = collect_triggers(
            [r for r in resources if r.get("mode") == "managed"], {f.name for f in functions}
        )
        functions = [_with_triggers(f, triggers.get(f.name, [])) for f in functions]
        functions.sort(key=lambda f: f.name)
        if region is None:
            region = next((f.arn.split(":")[3] for f in functions if f.arn.count(":") >= 6), "us-east-1")
        urls = ApiUrls(endpoint_url, api_prefix)

        def locate(address: str) -> tuple[Path, int | None] | None:
            return declaration_of(address, terraform_dir, module_dirs or {})

        apis = collect_apis([r for r in resources if r.get("mode") == "managed"], urls, locate)
        iam = IamIndex.from_resources(resources, locate)
        return cls(endpoint_url=endpoint_url, region=region, functions=functions, apis=apis, iam=iam)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (paths as strings)."""
        data = asdict(self)
        for item in [*data["functions"], *data["apis"]]:
            item["tf_file"] = str(item["tf_file"]) if item["tf_file"] is not None else None
        data["iam"] = self.iam.to_dict()
        return {"version": FORMAT_VERSION, **data}

    def save(self, path: Path) -> Path:
        """Write atomically (a reader never sees half a file)."""
        write_json_atomic(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path: Path) -> Inventory:
        """Read ``inventory.json``; ConfigError saying how to create it when missing or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path} does not exist; run `lambda-harness apply` first") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{path} is not readable JSON ({exc}); run `lambda-harness apply` again"
            ) from exc
        try:
            return cls._from_dict(data)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"{path} is not an inventory written by lambda-harness ({type(exc).__name__}: {exc}); "
                "delete it and run `lambda-harness apply` again"
            ) from exc

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Inventory:
        functions = []
        known = {f.name for f in fields(DeployedFunction)}
        for item in data.get("functions", []):
            # Ignore keys a newer harness may add, so an older reader still loads the file.
            raw = {k: v for k, v in item.items() if k in known}
            raw["triggers"] = [Trigger(**t) for t in raw.get("triggers", [])]
            raw["tf_file"] = Path(raw["tf_file"]) if raw.get("tf_file") else None
            functions.append(DeployedFunction(**raw))
        apis = []
        api_fields = {f.name for f in fields(DeployedApi)}
        for item in data.get("apis", []):
            raw = {k: v for k, v in item.items() if k in api_fields}
            raw["stages"] = [ApiStage(**s) for s in raw.get("stages", [])]
            raw["tf_file"] = Path(raw["tf_file"]) if raw.get("tf_file") else None
            apis.append(DeployedApi(**raw))
        return cls(
            endpoint_url=data.get("endpoint_url", ""),
            region=data.get("region", "us-east-1"),
            functions=functions,
            apis=apis,
            waived=[str(w) for w in data.get("waived", [])],
            iam=IamIndex.from_dict(data.get("iam")),
        )


def all_resources(module: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of a ``terraform show -json`` module and its child modules."""
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from all_resources(child)


def _function(
    res: Mapping[str, Any], terraform_dir: Path, module_dirs: Mapping[str, Path]
) -> DeployedFunction:
    v = res.get("values") or {}
    env_blocks = v.get("environment") or []
    environment = dict((env_blocks[0] or {}).get("variables") or {}) if env_blocks else {}
    where = declaration_of(str(res.get("address", "")), terraform_dir, module_dirs)
    return DeployedFunction(
        name=str(v.get("function_name", "")),
        handler=str(v.get("handler") or ""),
        runtime=str(v.get("runtime") or ""),
        architecture=str((v.get("architectures") or ["x86_64"])[0]),
        environment={str(k): str(val) for k, val in environment.items()},
        timeout=int(v.get("timeout") or 3),
        memory_size=int(v.get("memory_size") or 128),
        role=str(v.get("role") or ""),
        tf_file=where[0] if where else None,
        tf_line=where[1] if where else None,
        address=str(res.get("address", "")),
        arn=str(v.get("arn") or ""),
        code_sha256=str(v.get("code_sha256") or v.get("source_code_hash") or ""),
    )


def _with_triggers(fn: DeployedFunction, triggers: list[Trigger]) -> DeployedFunction:
    return replace(fn, triggers=triggers)


# -- where a resource is declared -----------------------------------------------------------------

_ADDRESS = re.compile(
    r"^(?P<modules>(?:module\.[^.\[]+(?:\[[^\]]*\])?\.)*)(?P<type>[a-z0-9_]+)\.(?P<name>[^.\[]+)"
)


def declaration_of(
    address: str, terraform_dir: Path, module_dirs: Mapping[str, Path]
) -> tuple[Path, int | None] | None:
    """(file, line) of ``resource "<type>" "<name>"`` (``data ...`` for a data source address);
    the line is None in a ``.tf.json`` file (JSON syntax: the file is named without one)."""
    block = "resource"
    if ".data." in f".{address}":
        block = "data"
        address = (
            address.replace("data.", "", 1)
            if address.startswith("data.")
            else address.replace(".data.", ".", 1)
        )
    m = _ADDRESS.match(address)
    if not m:
        return None
    modules = re.findall(r"module\.([^.\[]+)", m.group("modules"))
    folder = terraform_dir if not modules else module_dirs.get(".".join(modules))
    if folder is None or not folder.is_dir():
        return None
    return _declarations(folder).get((block, m.group("type"), m.group("name")))


_BLOCK_HEAD = re.compile(r'^[ \t]*(resource|data)\s+"([^"]+)"\s+"([^"]+)"', re.M)
#: (block, type, name) -> (file, line); no line in JSON syntax.
_Declarations = dict[tuple[str, str, str], tuple[Path, int | None]]
_declared: dict[Path, tuple[tuple[tuple[str, int, int], ...], _Declarations]] = {}


def _declarations(folder: Path) -> _Declarations:
    """Where every resource and data block of ``folder``'s .tf files starts (the first wins).

    Read once per folder and kept while no file changed (size and mtime): the inventory looks up
    every resource, and reading every file for each one made it quadratic (200 functions: 201
    files read 200 times, ~10 s of the apply stage in bench/pipeline.py --curve).
    """
    files = sorted([*folder.glob("*.tf"), *folder.glob("*.tf.json")], key=lambda f: f.name)
    signature = tuple((f.name, (st := f.stat()).st_mtime_ns, st.st_size) for f in files)
    cached = _declared.get(folder)
    if cached is not None and cached[0] == signature:
        return cached[1]
    found: _Declarations = {}
    for tf in files:
        text = tf.read_text(encoding="utf-8", errors="replace")
        if tf.name.endswith(".json"):
            for key in _json_declarations(text):
                found.setdefault(key, (tf, None))
            continue
        for head in _BLOCK_HEAD.finditer(text):
            key = (head.group(1), head.group(2), head.group(3))
            found.setdefault(key, (tf, text.count("\n", 0, head.start()) + 1))
    _declared[folder] = (signature, found)
    return found


def _json_declarations(text: str) -> list[tuple[str, str, str]]:
    """(block, type, name) of the resources and data sources of a ``.tf.json`` text."""
    try:
        data = json.loads(text)
    except ValueError:
        return []  # terraform itself reports a malformed file
    keys = []
    for block in ("resource", "data"):
        by_type = data.get(block) if isinstance(data, dict) else None
        # Terraform's JSON syntax allows a list of objects where it allows an object.
        for types in by_type if isinstance(by_type, list) else [by_type]:
            for kind, names in (types or {}).items() if isinstance(types, dict) else ():
                for named in names if isinstance(names, list) else [names]:
                    keys += [(block, kind, name) for name in (named if isinstance(named, dict) else {})]
    return keys


def module_dirs_from(workdir: Path, real_terraform_dir: Path) -> dict[str, Path]:
    """Module key -> folder from ``.terraform/modules/modules.json``, mapped back to the real repo."""
    manifest = workdir / ".terraform" / "modules" / "modules.json"
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("Modules", [])
    except (OSError, json.JSONDecodeError):
        return {}
    dirs: dict[str, Path] = {}
    for entry in entries:
        key, rel = entry.get("Key", ""), entry.get("Dir", "")
        if not key or not rel:
            continue
        staged = (workdir / rel).absolute()
        try:
            dirs[key] = real_terraform_dir / staged.relative_to(workdir.absolute())
        except ValueError:
            dirs[key] = staged.resolve()
    return dirs


# -- triggers ---------------------------------------------------------------------------------------


def function_name_of(ref: str, known: set[str]) -> str | None:
    """The function a name, ARN, qualified ARN or API Gateway invoke ARN refers to (if known)."""
    if ":function:" in ref:
        ref = ref.split(":function:", 1)[1]
    name = re.split(r"[:/]", ref, maxsplit=1)[0]
    return name if name in known else None


def collect_triggers(resources: list[dict[str, Any]], known: set[str]) -> dict[str, list[Trigger]]:
    """Function name -> triggers, from notification, mapping, subscription, rule, URL and API resources."""
    by_fn: dict[str, list[Trigger]] = {}

    def add(ref: Any, trigger: Trigger) -> None:
        name = function_name_of(str(ref or ""), known)
        if name is not None:
            by_fn.setdefault(name, []).append(trigger)

    rules = {
        (_v(r).get("event_bus_name") or "default", _v(r).get("name")): _v(r)
        for r in resources
        if r.get("type") == "aws_cloudwatch_event_rule"
    }
    for res in resources:
        for ref, trigger in _triggers_of(res, rules):
            add(ref, trigger)
    _add_api_routes(resources, by_fn)
    for name, triggers in by_fn.items():
        # An API integration says more than the permission that lets API Gateway call in.
        if any(t.kind == "api" and t.detail.get("resource") != "aws_lambda_permission" for t in triggers):
            by_fn[name] = [t for t in triggers if t.detail.get("resource") != "aws_lambda_permission"]
    return by_fn


def _add_api_routes(resources: list[dict[str, Any]], by_fn: Mapping[str, list[Trigger]]) -> None:
    """Name each API trigger's route: a REST API resource's path (the root's is ``/``), an HTTP
    API route's key (``route_keys``: every route on the integration; ``route_key``: the last)."""
    paths = {
        _v(r).get("id"): _v(r).get("path") for r in resources if r.get("type") == "aws_api_gateway_resource"
    }
    for r in resources:
        if r.get("type") == "aws_api_gateway_rest_api" and _v(r).get("root_resource_id"):
            paths.setdefault(_v(r)["root_resource_id"], "/")
    routes: dict[Any, list[str]] = {}
    for r in resources:
        if r.get("type") == "aws_apigatewayv2_route" and _v(r).get("route_key"):
            routes.setdefault(_v(r).get("target"), []).append(str(_v(r)["route_key"]))
    for triggers in by_fn.values():
        for trigger in triggers:
            if trigger.kind != "api":
                continue
            if trigger.detail.get("resource_id") in paths:
                trigger.detail["path"] = paths[trigger.detail["resource_id"]]
            keys = routes.get(f"integrations/{trigger.detail.get('integration_id')}")
            if keys:
                trigger.detail["route_key"] = keys[-1]
                trigger.detail["route_keys"] = keys


def describe_triggers(triggers: Sequence[Trigger]) -> str:
    """One line for a function's triggers: ``api:<id> (GET /a, POST /a)`` once per API, an
    authorizer as ``api:<id> (authorizer <name>)``, a bare permission by its API's id."""
    out: list[str] = []
    slots: dict[str, int] = {}  # API id -> its place in ``out``
    labels: dict[str, list[str]] = {}
    for trigger in triggers:
        if trigger.kind != "api":
            out.append(f"{trigger.kind}:{trigger.source}")
            continue
        api_id = _api_id(trigger.source)
        if api_id not in slots:
            slots[api_id], labels[api_id] = len(out), []
            out.append("")
        label = _api_label(trigger.detail)
        if label and label not in labels[api_id]:
            labels[api_id].append(label)
    for api_id, at in slots.items():
        out[at] = f"api:{api_id}" + (f" ({', '.join(labels[api_id])})" if labels[api_id] else "")
    return ", ".join(out)


def _api_id(source: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<id>/<stage>/...`` -> ``<id>``; an id as it is."""
    if source.startswith("arn:") and source.count(":") >= 5:
        return source.split(":", 5)[5].split("/", 1)[0]
    return source


def _api_label(detail: Mapping[str, Any]) -> str:
    if detail.get("authorizer"):
        return f"authorizer {detail['authorizer']}"
    if detail.get("route_keys"):
        return ", ".join(str(k) for k in detail["route_keys"])
    if detail.get("route_key"):
        return str(detail["route_key"])
    if detail.get("http_method") and detail.get("path"):
        return f"{detail['http_method']} {detail['path']}"
    return ""


def _v(res: Mapping[str, Any]) -> dict[str, Any]:
    return dict(res.get("values") or {})


def _triggers_of(  # noqa: PLR0911 (one return per resource type)
    res: Mapping[str, Any], rules: Mapping[tuple[Any, Any], dict[str, Any]]
) -> list[tuple[Any, Trigger]]:
    rtype, v, address = res.get("type"), _v(res), str(res.get("address", ""))
    if rtype == "aws_s3_bucket_notification":
        return [
            (
                n.get("lambda_function_arn"),
                Trigger(
                    "s3",
                    str(v.get("bucket")),
                    {
                        "events": n.get("events") or [],
                        "filter_prefix": n.get("filter_prefix") or "",
                        "filter_suffix": n.get("filter_suffix") or "",
                        "id": n.get("id") or "",
                        "address": address,
                    },
                ),
            )
            for n in v.get("lambda_function") or []
        ]
    if rtype == "aws_lambda_event_source_mapping":
        return [(v.get("function_arn") or v.get("function_name"), _mapping_trigger(v, address))]
    if rtype == "aws_sns_topic_subscription" and v.get("protocol") == "lambda":
        return [
            (
                v.get("endpoint"),
                Trigger(
                    "sns",
                    str(v.get("topic_arn")),
                    {"filter_policy": v.get("filter_policy") or "", "address": address},
                ),
            )
        ]
    if rtype == "aws_cloudwatch_event_target":
        rule = rules.get((v.get("event_bus_name") or "default", v.get("rule")), {})
        return [(v.get("arn"), _rule_trigger(rule, v, address))]
    if rtype == "aws_cloudwatch_log_subscription_filter":
        return [
            (
                v.get("destination_arn"),
                Trigger(
                    "logs",
                    str(v.get("log_group_name") or ""),
                    {
                        "filter_name": v.get("name") or "",
                        "filter_pattern": v.get("filter_pattern") or "",
                        "address": address,
                    },
                ),
            )
        ]
    if rtype == "aws_lambda_function_url":
        return [
            (
                v.get("function_name"),
                Trigger(
                    "url",
                    str(v.get("function_url") or ""),
                    {
                        "authorization_type": v.get("authorization_type"),
                        "qualifier": v.get("qualifier") or "",
                        "address": address,
                    },
                ),
            )
        ]
    return _api_triggers(str(rtype), v, address)


def _mapping_trigger(v: Mapping[str, Any], address: str) -> Trigger:
    arn = str(v.get("event_source_arn") or "")
    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
    kind = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb", "kafka": "kafka"}.get(
        service, service
    )
    return Trigger(
        kind,
        arn,
        {
            "batch_size": v.get("batch_size"),
            "enabled": v.get("enabled"),
            "function_response_types": v.get("function_response_types") or [],
            "starting_position": v.get("starting_position") or "",
            "uuid": v.get("uuid") or "",
            "address": address,
        },
    )


def _rule_trigger(rule: Mapping[str, Any], target: Mapping[str, Any], address: str) -> Trigger:
    detail: dict[str, Any] = {
        "target_id": target.get("target_id") or "",
        "input": target.get("input") or "",
        "event_bus_name": target.get("event_bus_name") or "default",
        "address": address,
    }
    if rule.get("schedule_expression"):
        detail["schedule_expression"] = rule["schedule_expression"]
        return Trigger("schedule", str(target.get("rule")), detail)
    pattern = rule.get("event_pattern") or ""
    try:
        detail["event_pattern"] = json.loads(pattern) if pattern else {}
    except json.JSONDecodeError:
        detail["event_pattern"] = pattern
    return Trigger("event", str(target.get("rule")), detail)


def _api_triggers(rtype: str, v: Mapping[str, Any], address: str) -> list[tuple[Any, Trigger]]:
    if rtype == "aws_lambda_permission" and v.get("principal") == "apigateway.amazonaws.com":
        return [
            (
                v.get("function_name"),
                Trigger(
                    "api",
                    str(v.get("source_arn") or "apigateway.amazonaws.com"),
                    {
                        "statement_id": v.get("statement_id") or "",
                        "resource": "aws_lambda_permission",
                        "address": address,
                    },
                ),
            )
        ]
    if rtype in ("aws_api_gateway_authorizer", "aws_apigatewayv2_authorizer"):
        return [
            (
                v.get("authorizer_uri"),
                Trigger(
                    "api",
                    str(v.get("rest_api_id") or v.get("api_id")),
                    {"authorizer": v.get("name") or "", "resource": rtype, "address": address},
                ),
            )
        ]
    if rtype == "aws_api_gateway_integration":
        return [
            (
                v.get("uri"),
                Trigger(
                    "api",
                    str(v.get("rest_api_id")),
                    {
                        "http_method": v.get("http_method"),
                        "resource_id": v.get("resource_id"),
                        "resource": rtype,
                        "address": address,
                    },
                ),
            )
        ]
    if rtype == "aws_apigatewayv2_integration":
        return [
            (
                v.get("integration_uri"),
                Trigger(
                    "api",
                    str(v.get("api_id")),
                    {
                        "integration_type": v.get("integration_type"),
                        "integration_id": v.get("id"),
                        "resource": rtype,
                        "address": address,
                    },
                ),
            )
        ]
    return []
