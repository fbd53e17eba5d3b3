"""Fidelity 1: what a caller names becomes the ARN the handler sees (AWS's invoked_function_arn).

Oracle: AWS's recorded answers (LocalStack's snapshots, test_invocation_with_qualifier and
test_introspection_invoke): an alias call shows ``...:fn:alias1`` with ExecutedVersion 1;
``Qualifier=$LATEST`` keeps ``:$LATEST``; unqualified is the bare ARN; a FunctionName
qualifier that disagrees with ``Qualifier`` is InvalidParameterValueException.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.exceptions import InvalidParameterValueException, UnknownFunctionException

from lambda_harness.endpoint.lookup import QUALIFIER_MISMATCH, FunctionRef, Target, parse_ref, resolve

ACCOUNT, REGION = "123456789012", "us-east-1"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"


@pytest.mark.parametrize(
    ("name", "qualifier", "ref"),
    [
        ("fn", None, FunctionRef("fn")),
        ("fn", "live", FunctionRef("fn", "live")),
        ("fn:live", None, FunctionRef("fn", "live")),
        ("fn:live", "live", FunctionRef("fn", "live")),
        (ARN, None, FunctionRef("fn", None, ACCOUNT, REGION)),
        (f"{ARN}:1", None, FunctionRef("fn", "1", ACCOUNT, REGION)),
        (ARN, "$LATEST", FunctionRef("fn", "$LATEST", ACCOUNT, REGION)),
        (f"{ACCOUNT}:function:fn:live", None, FunctionRef("fn", "live", ACCOUNT)),
        (
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn",
            None,
            FunctionRef("fn", None, ACCOUNT, "eu-west-1"),
        ),
    ],
)
def test_parse_ref(name: str, qualifier: str | None, ref: FunctionRef) -> None:
    assert parse_ref(name, qualifier) == ref


@pytest.mark.parametrize("name", ["fn:live", f"{ARN}:live"])
def test_qualifier_mismatch_is_aws_error(name: str) -> None:
    with pytest.raises(InvalidParameterValueException) as caught:
        parse_ref(name, "1")
    assert QUALIFIER_MISMATCH in caught.value.description


def test_target_qualifier() -> None:
    assert Target(None, ARN).qualifier is None
    assert Target(None, f"{ARN}:$LATEST").qualifier == "$LATEST"
    assert Target(None, f"{ARN}:live").qualifier == "live"


@pytest.fixture(scope="module")
def published() -> Iterator[Any]:
    """moto in-process: fn with version 1 and alias live -> 1."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def h(e, c): return 1")
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        lam.create_function(
            FunctionName="fn",
            Runtime="python3.12",
            Role=role,
            Handler="app.h",
            Code={"ZipFile": buf.getvalue()},
        )
        lam.publish_version(FunctionName="fn")
        lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
        yield lam


@pytest.mark.parametrize(
    ("name", "qualifier", "invoked", "version"),
    [
        ("fn", None, ARN, "$LATEST"),
        ("fn", "$LATEST", f"{ARN}:$LATEST", "$LATEST"),
        ("fn", "1", f"{ARN}:1", "1"),
        ("fn", "live", f"{ARN}:live", "1"),
        ("fn:live", None, f"{ARN}:live", "1"),
        (f"{ARN}:live", None, f"{ARN}:live", "1"),
        (f"{ACCOUNT}:function:fn:live", None, f"{ARN}:live", "1"),
    ],
)
def test_resolve_keeps_what_the_caller_named(
    published: Any, name: str, qualifier: str | None, invoked: str, version: str
) -> None:
    target = resolve(ACCOUNT, REGION, name, qualifier)
    assert target.invoked_arn == invoked
    assert str(target.fn.version) == version


@pytest.mark.parametrize(
    ("name", "qualifier", "message"),
    [
        (
            "doesnotexist",
            None,
            f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:doesnotexist:$LATEST",
        ),
        (
            "doesnotexist",
            "1",
            f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:doesnotexist:1",
        ),
        ("fn", "$latest", f"Function not found: {ARN}:$latest"),
        ("fn", "nope", f"Function not found: {ARN}:nope"),
    ],
)
def test_resolve_misses_name_the_qualifier(
    published: Any, name: str, qualifier: str | None, message: str
) -> None:
    with pytest.raises(UnknownFunctionException) as caught:
        resolve(ACCOUNT, REGION, name, qualifier)
    assert caught.value.code == 404
    assert message in caught.value.description
