"""``lambda-harness new``'s templates: package data, every file used, every token filled."""

from __future__ import annotations

import re

import pytest

from lambda_harness.scaffold import new


def test_every_template_file_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    read: set[str] = set()
    original = new.template

    def recording(name: str) -> str:
        read.add(name)
        return original(name)

    monkeypatch.setattr(new, "template", recording)
    for trigger in new.TRIGGERS:
        new.render("job", trigger)
    on_disk = {entry.name for entry in new.TEMPLATES.iterdir() if entry.name.endswith(".tmpl")}
    assert on_disk == read
    assert {entry.name for entry in new.TEMPLATES.iterdir()} - on_disk <= {"__pycache__"}


@pytest.mark.parametrize("trigger", new.TRIGGERS)
def test_every_token_is_filled(trigger: str) -> None:
    files = new.render("job", trigger)
    left = {key: re.findall(r"__[A-Z_]+__", text) for key, text in files.items()}
    assert {key: found for key, found in left.items() if found} == {}


def test_every_trigger_has_a_handler_and_a_summary() -> None:
    for trigger in new.TRIGGERS:
        assert new.TEMPLATES.joinpath(f"handler_{trigger}.py.tmpl").is_file()
        assert new.SUMMARY[trigger]


def test_the_handler_names_the_cases_folder_it_was_generated_for() -> None:
    assert "tests/integration/events/job/ in step" in new.render("job", "s3")["app"]
    assert "checks/job/ in step" in new.render("job", "s3", cases="checks")["app"]
