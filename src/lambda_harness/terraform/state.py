"""The harness's local Terraform state, read without Terraform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def state_as_show_json(state_file: Path) -> dict[str, Any] | None:
    """The resources (managed and data) of a local v4 state file, shaped like ``terraform show -json``.

    Reading the file ourselves saves ``terraform show``'s provider start and schema load
    (3-5 s an apply, measured by bench/pipeline.py). None when the file is missing or of
    another format version: then the caller asks terraform.
    """
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != 4:
        return None
    modules: dict[str, dict[str, Any]] = {}
    root: dict[str, Any] = {"resources": [], "child_modules": []}
    for res in state.get("resources", []):
        mode = res.get("mode")
        if mode not in ("managed", "data"):
            continue
        module = res.get("module", "")
        target = root
        if module:
            target = modules.setdefault(module, {"address": module, "resources": []})
        data = "data." if mode == "data" else ""
        base = f"{module + '.' if module else ''}{data}{res['type']}.{res['name']}"
        for inst in res.get("instances", []):
            key = inst.get("index_key")
            address = base if key is None else f"{base}[{json.dumps(key)}]"
            entry = {"address": address, "mode": mode, "type": res["type"], "name": res["name"]}
            entry["values"] = inst.get("attributes", {})
            if key is not None:
                entry["index"] = key
            target["resources"].append(entry)
    root["child_modules"] = list(modules.values())
    return {"values": {"root_module": root}}
