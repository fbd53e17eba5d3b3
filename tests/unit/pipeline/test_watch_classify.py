"""What watch does with a changed path: code, lock file, Terraform input, event case, or nothing."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.settings import load_settings
from lambda_harness.watch import Batch, changed_paths, classify, watched_paths


def test_paths_are_sorted_by_what_they_change(tmp_path: Path) -> None:
    for folder in ("functions/a", "terraform", "tests/integration/events/a", "modules/q"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "requirements.txt").write_text("")
    settings = load_settings(tmp_path, environ={"HOME": str(tmp_path)})
    module_tf = tmp_path / "modules" / "q" / "main.tf"
    changed = [
        tmp_path / "functions" / "a" / "app.py",
        tmp_path / "functions" / "a" / "__pycache__" / "app.cpython-312.pyc",
        tmp_path / "requirements.txt",
        tmp_path / "terraform" / "main.tf",
        tmp_path / "terraform" / ".terraform" / "providers" / "x",
        tmp_path / "terraform" / "terraform.tfstate",
        module_tf,
        tmp_path / "tests" / "integration" / "events" / "a" / "default.json",
        tmp_path / "dists.zip",
        tmp_path / ".harness" / "results.json",
        tmp_path / "README.md",
    ]
    batch = classify(settings, changed, [module_tf])
    assert batch == Batch(
        code=(tmp_path / "functions" / "a" / "app.py",),
        lock=True,
        terraform=(module_tf, tmp_path / "terraform" / "main.tf"),
        cases=(tmp_path / "tests" / "integration" / "events" / "a" / "default.json",),
    )
    assert batch.describe(tmp_path).startswith("modules/q/main.tf, terraform/main.tf, functions/a/app.py")
    assert not classify(settings, [tmp_path / "README.md"], [])
    deep, flat = watched_paths(settings, [module_tf])
    assert deep == [settings.functions_dir, settings.cases_dir, settings.terraform_dir]
    assert flat == [tmp_path, tmp_path / "modules" / "q"]  # the lock file's folder, the module's


def test_a_file_that_came_and_went_within_a_batch_is_no_change(tmp_path: Path) -> None:
    from watchfiles import Change

    real, temporary, removed = tmp_path / "greeting.py", tmp_path / "sedmYn7hK", tmp_path / "old.py"
    real.write_text("saved through a temporary file")
    changes = {
        (Change.added, str(temporary)),
        (Change.modified, str(temporary)),
        (Change.deleted, str(temporary)),  # renamed over greeting.py
        (Change.added, str(real)),
        (Change.deleted, str(removed)),  # a real deletion still counts
    }
    assert changed_paths(changes) == {real, removed}
    assert changed_paths({(Change.added, str(temporary)), (Change.deleted, str(temporary))}) == set()
