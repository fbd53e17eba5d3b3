"""Fidelity 7 (pure part): the one event-pattern matcher, against the Lambda developer guide.

Oracle: invocation-eventfiltering (the rule table; SQS's "Properly filtering Amazon SQS
messages" table; Kinesis ``data`` and DynamoDB records) and EventBridge's pattern page
(suffix, equals-ignore-case, wildcard, cidr, $or, arrays).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from moto.awslambda.exceptions import InvalidParameterValueException

from lambda_harness.endpoint.sources.filtering import (
    kinesis_candidate,
    load,
    matches,
    passes,
    sqs_candidate,
)

EVENT = {
    "name": "Alice",
    "city": "Seattle",
    "age": 30,
    "score": 7.5,
    "active": True,
    "nothing": None,
    "empty": "",
    "ip": "10.0.0.12",
    "tags": ["red", "blue"],
    "items": [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}],
    "a.b": "dotted",
    "detail": {"state": "running", "nested": {"deep": "x"}},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"name": ["Alice"]}, True),  # equals
        ({"name": ["Bob", "Alice"]}, True),  # OR within a field
        ({"name": ["alice"]}, False),  # case-sensitive
        ({"age": [30]}, True),
        ({"age": ["30"]}, False),  # no type coercion
        ({"active": [True]}, True),
        ({"active": [1]}, False),  # true is not 1
        ({"nothing": [None]}, True),  # null
        ({"missing": [None]}, False),  # missing is not null
        ({"empty": [""]}, True),  # empty string
        ({"name": [{"prefix": "Al"}]}, True),
        ({"name": [{"prefix": {"equals-ignore-case": "al"}}]}, True),
        ({"city": [{"suffix": "tle"}]}, True),
        ({"city": [{"suffix": {"equals-ignore-case": "TLE"}}]}, True),
        ({"city": [{"equals-ignore-case": "SEATTLE"}]}, True),
        ({"city": [{"wildcard": "Se*le"}]}, True),
        ({"city": [{"wildcard": "*x*"}]}, False),
        ({"city": [{"anything-but": "Portland"}]}, True),
        ({"city": [{"anything-but": ["Seattle", "Portland"]}]}, False),
        ({"city": [{"anything-but": {"prefix": "Sea"}}]}, False),
        ({"city": [{"anything-but": {"suffix": "land"}}]}, True),
        ({"missing": [{"anything-but": "x"}]}, False),  # anything-but needs the field
        ({"age": [{"numeric": [">", 20, "<=", 30]}]}, True),
        ({"score": [{"numeric": ["=", 7.5]}]}, True),
        ({"age": [{"numeric": ["<", 18]}]}, False),
        ({"name": [{"numeric": [">", 0]}]}, False),
        ({"name": [{"exists": True}]}, True),
        ({"missing": [{"exists": False}]}, True),
        ({"name": [{"exists": False}]}, False),
        ({"detail": [{"exists": True}]}, False),  # exists only sees leaves
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, True),
        ({"ip": [{"cidr": "10.1.0.0/24"}]}, False),
        ({"tags": ["blue"]}, True),  # arrays: any element
        ({"items": {"id": [2]}}, True),  # arrays of objects are descended
        ({"items": {"id": [1], "kind": ["b"]}}, True),  # fields matched across elements, as EventBridge
        ({"items": {"id": [3]}}, False),
        ({"a.b": ["dotted"]}, True),  # a dotted key is one key ...
        ({"a": {"b": ["dotted"]}}, False),  # ... not a path
        ({"detail": {"state": ["running"], "nested": {"deep": ["x"]}}}, True),
        ({"detail": {"state": ["running"], "nested": {"deep": ["y"]}}}, False),  # fields AND
        ({"$or": [{"name": ["Bob"]}, {"city": ["Seattle"]}]}, True),
        ({"$or": [{"name": ["Bob"]}, {"city": ["Paris"]}]}, False),
        ({"missing": {"deeper": [{"exists": False}]}}, True),
    ],
)
def test_rules(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def criteria(*patterns: Any) -> dict[str, Any]:
    return {"Filters": [{"Pattern": p if isinstance(p, str) else json.dumps(p)} for p in patterns]}


def test_filters_are_ored_and_none_passes_everything() -> None:
    two = load(criteria({"name": ["Bob"]}, {"city": ["Seattle"]}))
    assert passes(two, EVENT)
    assert not passes(load(criteria({"name": ["Bob"]})), EVENT)
    assert passes(load(None), EVENT) and passes(load({"Filters": []}), EVENT)


@pytest.mark.parametrize(
    "pattern",
    ["{not json", "[1]", json.dumps({"name": "Alice"}), json.dumps({"name": []}), json.dumps({"$or": [{}]})],
)
def test_unusable_patterns_are_refused_as_aws_does(pattern: str) -> None:
    with pytest.raises(InvalidParameterValueException, match="Invalid filter pattern definition"):
        load(criteria(pattern))


def test_at_most_five_filters() -> None:
    with pytest.raises(InvalidParameterValueException, match="At most 5 filters"):
        load(criteria(*[{"n": [i]} for i in range(6)]))


def sqs(body: str) -> dict[str, Any]:
    return {"messageId": "m", "body": body, "attributes": {"ApproximateReceiveCount": "1"}}


@pytest.mark.parametrize(
    ("body", "pattern", "kept"),
    [
        ("hello", {"body": ["hello"]}, True),  # plain body, plain-string pattern: filtered
        ("hello", {"body": {"a": [1]}}, False),  # plain body, JSON pattern: dropped
        ('{"a": 1}', {"body": ['{"a": 1}']}, False),  # JSON body, plain-string pattern: dropped
        ('{"a": 1}', {"body": {"a": [1]}}, True),  # JSON body, JSON pattern: filtered
        ('{"a": 1}', {"body": {"a": [2]}}, False),
        ("anything", {"attributes": {"ApproximateReceiveCount": ["1"]}}, True),  # metadata only
        ("hello", {"body": {"a": [{"exists": False}]}}, False),  # JSON pattern: dropped, exists or not
        ('{"b": 1}', {"body": {"a": [{"exists": False}]}}, True),
        ('{"a": 1}', {"body": [{"exists": False}]}, False),  # plain-string pattern, JSON body
        ("hello", {"body": [{"prefix": "he"}]}, True),
    ],
)
def test_sqs_body_rules(body: str, pattern: dict[str, Any], kept: bool) -> None:
    assert passes(load(criteria(pattern)), sqs_candidate(sqs(body))) is kept


def kinesis(data: bytes) -> dict[str, Any]:
    return {
        "kinesis": {"partitionKey": "pk-1", "data": base64.b64encode(data).decode(), "sequenceNumber": "1"},
        "eventSource": "aws:kinesis",
    }


def test_kinesis_data_is_decoded_at_the_top_level() -> None:
    record = kinesis(b'{"temperature": 31, "city": "Oslo"}')
    assert passes(
        load(criteria({"data": {"temperature": [{"numeric": [">", 30]}]}})), kinesis_candidate(record)
    )
    assert passes(load(criteria({"partitionKey": ["pk-1"]})), kinesis_candidate(record))
    assert not passes(load(criteria({"data": {"city": ["Bergen"]}})), kinesis_candidate(record))


def test_kinesis_data_that_is_not_json_never_matches_a_data_pattern() -> None:
    record = kinesis(b"plain text")
    assert not passes(load(criteria({"data": {"city": [{"exists": True}]}})), kinesis_candidate(record))
    assert not passes(load(criteria({"data": {"city": [{"exists": False}]}})), kinesis_candidate(record))
    assert passes(load(criteria({"partitionKey": ["pk-1"]})), kinesis_candidate(record))


def test_dynamodb_records_match_as_they_are() -> None:
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"kind": {"S": "order"}, "n": {"N": "3"}}}}
    assert passes(
        load(criteria({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["order"]}}}})),
        record,
    )
    assert not passes(load(criteria({"eventName": ["MODIFY"]})), record)
