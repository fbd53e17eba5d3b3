"""One JUnit XML file from the shards' ``junit.xml`` files (``lambda-harness merge``).

pytest writes ``<testsuites><testsuite name="pytest" ...>`` per run. The merged file
holds one ``<testsuite>`` per shard, named ``shard K/N``, in shard order whatever the
order the files were given in, each with its test cases as pytest wrote them; the root
carries the totals. The same shards always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

from lambda_harness.errors import ConfigError
from lambda_harness.fsutil import atomic_file

#: The counters pytest puts on a <testsuite>, summed on the merged root.
COUNTS = ("tests", "errors", "failures", "skipped")


def read_suites(path: Path) -> list[ElementTree.Element]:
    """The ``<testsuite>`` elements of one JUnit file; ConfigError naming an unreadable one."""
    try:
        root = ElementTree.parse(path).getroot()  # noqa: S314 - the shards' own pytest output
    except (OSError, ElementTree.ParseError) as exc:
        raise ConfigError(
            f"{path}: not a readable JUnit file ({exc}); upload each shard's .harness/junit.xml"
        ) from exc
    if root.tag == "testsuite":
        return [root]
    return root.findall("testsuite")


def merge_junit(shards: Sequence[tuple[int, int, Path]], out: Path) -> ElementTree.Element:
    """Write ``out`` from ``(index, total, junit path)`` of every shard; the merged root."""
    root = ElementTree.Element("testsuites", {"name": "lambda-harness merged shards"})
    totals = dict.fromkeys(COUNTS, 0)
    seconds = 0.0
    for index, total, path in sorted(shards, key=lambda s: s[0]):
        for suite in read_suites(path):
            suite.set("name", f"shard {index}/{total}")
            for key in COUNTS:
                totals[key] += int(suite.get(key) or 0)
            seconds += float(suite.get("time") or 0.0)
            root.append(suite)
    for key in COUNTS:
        root.set(key, str(totals[key]))
    root.set("time", f"{seconds:.3f}")
    ElementTree.indent(root)
    with atomic_file(out) as tmp:
        tmp.write_bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
    return root
