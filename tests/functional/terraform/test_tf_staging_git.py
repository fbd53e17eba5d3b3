"""The staged tree seen by real git (follow-up 9): no warnings, nothing of .harness/ listed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lambda_harness.paths import ignore_in_git
from lambda_harness.terraform import staging


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)


def test_git_status_stays_quiet_and_ignores_the_harness_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "terraform").mkdir(parents=True)
    (repo / "terraform" / "main.tf").write_text("")
    (repo / "tests").mkdir()
    (repo / ".gitignore").write_text("dists.zip\n")  # the team's: it does not mention .harness/
    (repo / ".github").mkdir()
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "repo")

    harness = repo / ".harness"
    staged = staging.layout(harness, "embedded", repo, repo / "terraform")
    staging.stage(repo, repo / "terraform", staged)
    ignore_in_git(harness)

    assert not (staged.tree / ".gitignore").exists() and not (staged.tree / ".github").exists()
    assert (staged.tree / "tests").is_symlink()
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert (status.stdout, status.stderr) == ("", "")
    (harness / ".gitignore").write_text("# the team's own\n")
    ignore_in_git(harness)  # never overwritten
    assert (harness / ".gitignore").read_text() == "# the team's own\n"
