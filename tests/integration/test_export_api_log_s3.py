"""export_api_log: one day of API log items becomes a gzipped JSON-lines object in S3."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any


def test_export_writes_gzipped_jsonl_of_the_day(
    function: Callable[..., Any], aws_client: Callable[..., Any], invoke: Callable[..., Any]
) -> None:
    fn = function("export_api_log")
    day = "2026-03-14"  # a day no other test writes
    ddb = aws_client("dynamodb")
    requests = [
        {
            "day": {"S": day},
            "request_key": {"S": f"{day}T10:00:0{i}Z#req-{i}"},
            "path": {"S": f"/alerts/{i}"},
            "status": {"N": str(200 + i)},
        }
        for i in range(3)
    ]
    for item in requests:
        ddb.put_item(TableName=fn.env["API_LOG_TABLE"], Item=item)
    other_day = {"day": {"S": "2026-03-15"}, "request_key": {"S": "x"}, "path": {"S": "/other"}}
    ddb.put_item(TableName=fn.env["API_LOG_TABLE"], Item=other_day)

    result = invoke("export_api_log", {"day": day})
    assert result.ok, f"{result.describe_error()}\n{result.log_tail}"
    assert result.payload["count"] == 3 and result.payload["bucket"] == fn.env["EXPORT_BUCKET"]
    key = result.payload["key"]
    assert key == f"{fn.env.get('EXPORT_PREFIX', 'api-logs')}/2026/03/14/export-{day}.jsonl.gz"

    body = aws_client("s3").get_object(Bucket=fn.env["EXPORT_BUCKET"], Key=key)["Body"].read()
    lines = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
    assert sorted(line["path"] for line in lines) == ["/alerts/0", "/alerts/1", "/alerts/2"]
    assert all(line["day"] == day for line in lines)
