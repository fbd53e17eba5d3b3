"""What each deployment froze: AWS serves a stage's *deployment*, not the API's live config.

moto's ``Deployment`` keeps only an id and a description, so a hook records the route
table at ``CreateDeployment`` (REST) and ``gaps`` does the same for HTTP API
deployments. A REST route added without a new deployment is then not served, as on
AWS. A stage whose deployment was never recorded (created before the endpoint
started) is served from the live config.
"""

from __future__ import annotations

import threading

from lambda_harness.endpoint.apigw.model import RouteTable


class DeploymentSnapshots:
    """Route tables by (API id, deployment id); thread-safe."""

    def __init__(self) -> None:
        self._tables: dict[tuple[str, str], RouteTable] = {}
        self._lock = threading.Lock()

    def record(self, api_id: str, deployment_id: str, table: RouteTable) -> None:
        """Freeze what a new deployment serves."""
        with self._lock:
            self._tables[(api_id, deployment_id)] = table

    def get(self, api_id: str, deployment_id: str | None) -> RouteTable | None:
        """The frozen table of a deployment, or None when it was not recorded."""
        if not deployment_id:
            return None
        with self._lock:
            return self._tables.get((api_id, deployment_id))

    def forget(self, api_id: str, deployment_id: str) -> None:
        """Drop a deleted deployment."""
        with self._lock:
            self._tables.pop((api_id, deployment_id), None)
