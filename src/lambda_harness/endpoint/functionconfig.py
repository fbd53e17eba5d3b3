"""Function settings moto drops or invents, kept and answered as AWS does (no behaviour).

* ``LoggingConfig``: moto neither keeps nor returns it. AWS answers it for every function:
  ``{"LogFormat": "Text", "LogGroup": "/aws/lambda/<name>"}`` when none was set; with
  ``LogFormat = "JSON"`` the two log levels too (``INFO`` unless given).
* ``SnapStart``: moto always answers ``ApplyOn: None``. AWS answers what was set, with
  ``OptimizationStatus`` ``On`` for a published version of a SnapStart function and ``Off``
  for ``$LATEST`` (only published versions are snapshotted).
* ``ImageConfigResponse``: moto answers empty ``Command``/``EntryPoint`` lists for every
  Image function; AWS answers none when no image config was set, and only the fields set.

Each one made a second ``terraform plan`` show a change that no apply could settle.
``hooks`` calls ``remember`` from ``LambdaFunction.__init__``, ``update`` from
``update_configuration`` and ``answer`` from ``get_configuration``; the values live on moto's
function object, so published versions (deep copies) carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_LOGGING = "lh_logging_config"
_SNAP_START = "lh_snap_start"
_IMAGE = "lh_image_config"
_IMAGE_FIELDS = ("EntryPoint", "Command", "WorkingDirectory")
#: What AWS applies to a JSON-format function whose levels were not given.
DEFAULT_LOG_LEVEL = "INFO"


def logging_config(function_name: str, given: Mapping[str, Any] | None) -> dict[str, str]:
    """``LoggingConfig`` as AWS answers it for a function configured with ``given``."""
    given = given or {}
    out = {
        "LogFormat": str(given.get("LogFormat") or "Text"),
        "LogGroup": str(given.get("LogGroup") or f"/aws/lambda/{function_name}"),
    }
    if out["LogFormat"] == "JSON":
        out["ApplicationLogLevel"] = str(given.get("ApplicationLogLevel") or DEFAULT_LOG_LEVEL)
        out["SystemLogLevel"] = str(given.get("SystemLogLevel") or DEFAULT_LOG_LEVEL)
    return out


def snap_start(given: Mapping[str, Any] | None, version: str) -> dict[str, str]:
    """``SnapStart`` (AWS's ``SnapStartResponse``) for ``version`` (``$LATEST`` or a number)."""
    apply_on = str((given or {}).get("ApplyOn") or "None")
    on = apply_on == "PublishedVersions" and version != "$LATEST"
    return {"ApplyOn": apply_on, "OptimizationStatus": "On" if on else "Off"}


def image_config(given: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``ImageConfigResponse`` for an Image function: None when no field was set."""
    kept = {k: given[k] for k in _IMAGE_FIELDS if given and given.get(k)}
    return {"ImageConfig": kept} if kept else None


def remember(fn: Any, spec: Mapping[str, Any]) -> None:
    """CreateFunction: keep what moto drops."""
    setattr(fn, _LOGGING, dict(spec.get("LoggingConfig") or {}))
    setattr(fn, _SNAP_START, dict(spec.get("SnapStart") or {}))
    setattr(fn, _IMAGE, dict(spec.get("ImageConfig") or {}))


def update(fn: Any, updates: Mapping[str, Any]) -> None:
    """UpdateFunctionConfiguration: each block given replaces the kept one (moto ignores them)."""
    for key, attribute in (("LoggingConfig", _LOGGING), ("SnapStart", _SNAP_START), ("ImageConfig", _IMAGE)):
        if key in updates:
            setattr(fn, attribute, dict(updates[key] or {}))


def answer(fn: Any, config: dict[str, Any]) -> dict[str, Any]:
    """moto's ``get_configuration`` answer, with these settings as AWS answers them."""
    config["LoggingConfig"] = logging_config(str(fn.function_name), getattr(fn, _LOGGING, None))
    config["SnapStart"] = snap_start(getattr(fn, _SNAP_START, None), str(config.get("Version")))
    if config.get("PackageType") == "Image":
        response = image_config(getattr(fn, _IMAGE, None))
        if response is None:
            config.pop("ImageConfigResponse", None)
        else:
            config["ImageConfigResponse"] = response
    return config
