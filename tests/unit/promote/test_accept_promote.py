"""Acceptance: after the real apply, an unreadable CodeSha256 is a PromoteError, not a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_harness.errors import PromoteError
from lambda_harness.promote.attestation import read_attestation, write_attestation
from lambda_harness.promote.release import verify_code
from lambda_harness.settings import load_settings


class DeniedLambda:
    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
        raise ClientError(error, "GetFunctionConfiguration")  # type: ignore[arg-type]


def test_access_denied_on_the_check_names_the_function_and_the_permission(tmp_path: Path) -> None:
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text("")
    (tmp_path / "dists.zip").write_bytes(b"PK tested")
    settings = load_settings(tmp_path, {}, {"HOME": str(tmp_path)})
    write_attestation(settings, tmp_path / "dists.zip", {"report": {"passed": 1, "failed": 0}})
    arn = "arn:aws:lambda:eu-west-1:1:function:report"
    show = {
        "values": {
            "root_module": {
                "resources": [
                    {
                        "type": "aws_lambda_function",
                        "mode": "managed",
                        "values": {"function_name": "report", "arn": arn},
                    }
                ]
            }
        }
    }

    with pytest.raises(PromoteError) as err:
        verify_code(read_attestation(settings), show, {}, lambda env, region: DeniedLambda())

    msg = str(err.value)
    assert "CodeSha256 of report could not be read" in msg and "AccessDeniedException" in msg
    assert f"lambda:GetFunctionConfiguration on {arn}" in msg
