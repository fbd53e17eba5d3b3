"""Which configurations read repo files while planning, and what stands for those files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.terraform import reads


def module(folder: Path, text: str, name: str = "main.tf") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('locals {\n  f = { for d in fileset("../src", "*/main.py") : d => d }\n}\n', "fileset()"),
        ('locals {\n  c = jsondecode(file("${path.module}/c.json"))\n}\n', "file()"),
        ('locals {\n  c = yamldecode( file ("c.yaml"))\n}\n', "file()"),
        ('locals {\n  p = templatefile("p.tpl", {})\n}\n', "templatefile()"),
        ('locals {\n  h = filebase64("x.zip")\n}\n', "filebase64()"),
        ('locals {\n  e = fileexists("x.json")\n}\n', "fileexists()"),
        ('data "archive_file" "z" {\n  type = "zip"\n}\n', 'data "archive_file"'),
    ],
)
def test_a_file_reading_function_or_an_archive_is_seen(tmp_path: Path, text: str, what: str) -> None:
    folder = module(tmp_path / "terraform", text)
    assert reads.uses_files([folder], tmp_path) == f"terraform/main.tf uses {what}"


def test_json_syntax_and_modules_from_elsewhere_count_too(tmp_path: Path) -> None:
    folder = module(tmp_path / "tf", '{"data": {"archive_file": {"z": {"type": "zip"}}}}', "main.tf.json")
    assert reads.uses_files([folder]) is not None
    other = module(tmp_path / "other", 'module "m" {\n  source = "git::https://example.com/m.git"\n}\n')
    assert reads.uses_files([other]) == 'module "m" comes from git::https://example.com/m.git'


def test_a_configuration_that_reads_no_file(tmp_path: Path) -> None:
    folder = module(
        tmp_path / "tf",
        'resource "aws_lambda_function" "f" {\n  filename = "../dists.zip" # profile("x")\n'
        '  source_code_hash = filebase64sha256("../dists.zip")\n'
        '  description = "a file"\n}\nmodule "m" {\n  source = "./m"\n}\n',
    )
    assert reads.uses_files([folder]) is None


def test_python_counts_by_path_other_files_by_content(tmp_path: Path) -> None:
    (tmp_path / "src" / "export").mkdir(parents=True)
    (tmp_path / "src" / "export" / "main.py").write_text("def handler(e, c): ...\n")
    (tmp_path / "src" / "export" / "function.json").write_text('{"handler": "main.handler"}\n')
    before = reads.repo_files(tmp_path)
    assert before["src/export/main.py"] == "python"
    (tmp_path / "src" / "export" / "main.py").write_text("def handler(e, c):\n    return 1\n")
    assert reads.repo_files(tmp_path) == before
    (tmp_path / "src" / "export" / "function.json").write_text('{"handler": "main.other"}\n')
    assert reads.repo_files(tmp_path)["src/export/function.json"] != before["src/export/function.json"]


def test_what_is_never_a_terraform_input_is_not_listed(tmp_path: Path) -> None:
    for rel in (
        ".git/HEAD",
        ".harness/discovery.json",
        ".venv/lib/x.py",
        "venv/lib/y.py",
        "node_modules/a/index.js",
        "src/__pycache__/main.cpython-312.pyc",
        "build/geo.zip",
        "build/geo.zip.json",
        "build/.geo.zip.lambda-harness-new",
        "terraform/.terraform/modules/modules.json",
        "terraform/terraform.tfstate",
        "cases/f/default.json",
        "dists.zip",
        "src/main.py",
        ".gitignore",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    listed = reads.repo_files(tmp_path, skip=[tmp_path / "cases"])
    assert list(listed) == [".gitignore", "src/main.py"]


def test_a_big_file_counts_by_size_and_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reads, "CONTENT_LIMIT", 4)
    (tmp_path / "data.csv").write_text("a,b,c\n")
    assert reads.repo_files(tmp_path)["data.csv"].startswith("size 6 mtime ")
