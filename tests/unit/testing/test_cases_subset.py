"""Subset matching of payloads against ``<case>.expected.json``."""

from __future__ import annotations

from lambda_harness.testing.cases import subset_diff


def test_dict_subset_ignores_extra_keys() -> None:
    assert subset_diff({"a": 1}, {"a": 1, "b": 2}) == []


def test_nested_dict_mismatch_names_the_path() -> None:
    diffs = subset_diff({"body": {"count": 3}}, {"body": {"count": 4, "x": 1}})
    assert diffs == ["$.body.count: expected 3, got 4"]


def test_missing_key_is_reported_with_the_expected_value() -> None:
    assert subset_diff({"a": {"b": "x"}}, {"a": {}}) == ['$.a.b: missing (expected "x")']


def test_lists_need_equal_length() -> None:
    diffs = subset_diff([1, 2], [1, 2, 3])
    assert len(diffs) == 1
    assert "expected 2 items, got 3" in diffs[0]


def test_list_elements_match_as_subsets() -> None:
    assert subset_diff([{"id": 1}], [{"id": 1, "extra": True}]) == []
    assert subset_diff([{"id": 1}], [{"id": 2}]) == ["$[0].id: expected 1, got 2"]


def test_scalars_must_be_equal_and_bool_is_not_int() -> None:
    assert subset_diff(True, 1) == ["$: expected true, got 1"]
    assert subset_diff(1, 1.0) == []
    assert subset_diff("a", "b") == ['$: expected "a", got "b"']
    assert subset_diff(None, None) == []


def test_shape_mismatches() -> None:
    assert subset_diff({"a": 1}, [1]) == ["$: expected an object, got [1]"]
    assert subset_diff([1], {"a": 1}) == ['$: expected a list, got {"a": 1}']
    assert subset_diff({"a": 1}, b"raw") == ["$: expected an object, got b'raw'"]


def test_every_difference_is_listed() -> None:
    diffs = subset_diff({"a": 1, "b": 2, "c": 3}, {"a": 0, "b": 2})
    assert diffs == ["$.a: expected 1, got 0", "$.c: missing (expected 3)"]
