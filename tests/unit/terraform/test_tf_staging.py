"""The staged copy: layout, symlinks, what is copied and kept, the backend override."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError, TerraformError
from lambda_harness.terraform import staging


def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    tf = root / "terraform"
    (tf / "modules" / "queue").mkdir(parents=True)
    (tf / "main.tf").write_text('terraform {\n  backend "s3" {\n    bucket = "real"\n  }\n}\n')
    (tf / "prod.tfvars").write_text('region = "eu-west-1"\n')
    (tf / "policy.json").write_text("{}")
    (tf / "modules" / "queue" / "main.tf").write_text("")
    (tf / "terraform.tfstate").write_text("REAL STATE")
    (tf / ".terraform").mkdir()
    (tf / ".terraform" / "marker").write_text("real")
    (root / "dists.zip").write_bytes(b"PK")
    (root / "functions").mkdir()
    (root / ".harness").mkdir()
    return root


def do_stage(root: Path, tf_dir: Path | None = None) -> staging.StagedDir:
    tf_dir = tf_dir or root / "terraform"
    staged = staging.layout(root / ".harness", "embedded", root, tf_dir)
    staging.stage(root, tf_dir, staged)
    return staged


def test_layout_mirrors_project(tmp_path: Path) -> None:
    root = project(tmp_path)
    staged = do_stage(root)
    assert staged.workdir == root / ".harness" / "tf" / "embedded" / "tree" / "terraform"
    assert (staged.workdir / ".." / "dists.zip").resolve() == (root / "dists.zip").resolve()
    assert (staged.tree / "functions").is_symlink()
    assert not (staged.tree / ".harness").exists()
    assert sorted(p.name for p in staged.workdir.iterdir()) == [
        "main.tf",
        "modules",
        "policy.json",
        "prod.tfvars",
        staging.OVERRIDE_NAME,
    ]
    assert (staged.workdir / "modules" / "queue" / "main.tf").is_file()


def test_override_points_at_harness_state(tmp_path: Path) -> None:
    root = project(tmp_path)
    staged = do_stage(root)
    text = (staged.workdir / staging.OVERRIDE_NAME).read_text()
    assert 'backend "local"' in text
    assert f'path = "{staged.state.resolve()}"' in text
    assert staged.state.is_relative_to(root / ".harness")


def test_restage_keeps_dot_terraform_and_drops_stale_files(tmp_path: Path) -> None:
    root = project(tmp_path)
    staged = do_stage(root)
    (staged.workdir / ".terraform").mkdir()
    (staged.workdir / ".terraform" / "providers").write_text("cached")
    (staged.workdir / staging.TFLOCAL_OVERRIDE).write_text("left by an interrupted tflocal")
    (staged.workdir / "old.tf").write_text("")
    (root / "terraform" / "new.tf").write_text("")
    (root / "extra.txt").write_text("")
    do_stage(root)
    assert (staged.workdir / ".terraform" / "providers").read_text() == "cached"
    assert not (staged.workdir / staging.TFLOCAL_OVERRIDE).exists()
    assert not (staged.workdir / "old.tf").exists()
    assert (staged.workdir / "new.tf").exists()
    assert (staged.tree / "extra.txt").is_symlink()


def test_real_folder_untouched(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = {p: p.read_bytes() for p in (root / "terraform").rglob("*") if p.is_file()}
    do_stage(root)
    after = {p: p.read_bytes() for p in (root / "terraform").rglob("*") if p.is_file()}
    assert before == after


def test_nested_terraform_dir(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "infra" / "terraform").mkdir(parents=True)
    (root / "infra" / "terraform" / "main.tf").write_text("")
    (root / "infra" / "modules").mkdir()
    (root / "dists.zip").write_bytes(b"PK")
    staged = do_stage(root, root / "infra" / "terraform")
    assert staged.workdir == staged.tree / "infra" / "terraform"
    assert (staged.tree / "infra" / "modules").is_symlink()
    assert (staged.workdir / "../../dists.zip").resolve() == (root / "dists.zip").resolve()


def test_tflocal_leftover_in_real_folder_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "terraform" / staging.TFLOCAL_OVERRIDE).write_text("")
    with pytest.raises(TerraformError, match=r"localstack_providers_override\.tf.*delete"):
        do_stage(root)


def test_missing_terraform_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        do_stage(tmp_path, tmp_path / "terraform")


def test_strip_lock_hashes_keeps_versions(tmp_path: Path) -> None:
    lock = tmp_path / ".terraform.lock.hcl"
    lock.write_text(
        'provider "registry.terraform.io/hashicorp/aws" {\n  version = "5.100.0"\n'
        '  hashes = [\n    "h1:x=",\n    "zh:y",\n  ]\n}\n'
    )
    assert staging.strip_lock_hashes(lock)
    assert lock.read_text() == 'provider "registry.terraform.io/hashicorp/aws" {\n  version = "5.100.0"\n}\n'
    assert not staging.strip_lock_hashes(lock)
    assert not staging.strip_lock_hashes(tmp_path / "absent")


def test_a_link_in_terraform_resolving_outside_it_fails_naming_link_and_target(tmp_path: Path) -> None:
    root = project(tmp_path)
    secret = tmp_path / "secret.tfvars"
    secret.write_text('token = "real"\n')
    link = root / "terraform" / "prod.auto.tfvars"
    link.symlink_to(secret)
    with pytest.raises(TerraformError) as info:
        do_stage(root)
    assert f"{link} -> {secret}" in str(info.value) and "resolves outside" in str(info.value)


def test_a_link_inside_terraform_is_staged_as_a_copy_of_its_target(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "terraform" / "dev.tfvars").symlink_to("prod.tfvars")
    staged = do_stage(root)
    copy = staged.workdir / "dev.tfvars"
    assert not copy.is_symlink() and copy.read_text() == 'region = "eu-west-1"\n'


def root_module_repo(tmp_path: Path) -> Path:
    """Terraform at the repo root (``terraform = "."``), a local module, the usual clutter."""
    root = tmp_path / "repo"
    (root / "modules" / "lambda").mkdir(parents=True)
    (root / "main.tf").write_text('module "fn" {\n  source = "./modules/lambda"\n}\n')
    (root / "terraform.tfvars").write_text('prefix = "x"\n')
    (root / ".terraform.lock.hcl").write_text("# lock\n")
    (root / "terraform.tfstate").write_text("REAL STATE")
    (root / "modules" / "lambda" / "main.tf").write_text('resource "aws_lambda_function" "this" {}\n')
    (root / "modules" / "lambda" / "policy.json").write_text("{}")
    (root / "modules" / "unused").mkdir()
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("")
    for junk in (".git", ".venv", "node_modules", ".harness"):
        (root / junk).mkdir()
        (root / junk / "marker").write_text("")
    return root


def test_terraform_at_the_repo_root_stages_without_recursion(tmp_path: Path) -> None:
    root = root_module_repo(tmp_path)
    staged = do_stage(root, root)
    assert staged.workdir == staged.tree
    names = sorted(p.name for p in staged.tree.iterdir())
    assert names == [
        ".terraform.lock.hcl",
        "main.tf",
        "modules",
        "src",
        "terraform.tfvars",
        staging.OVERRIDE_NAME,
    ]
    # configuration is copied, the module folder is real, the rest is linked
    assert not (staged.tree / "main.tf").is_symlink()
    assert not (staged.tree / ".terraform.lock.hcl").is_symlink()
    assert (staged.tree / "src").is_symlink()
    module = staged.tree / "modules" / "lambda"
    assert module.is_dir() and not module.is_symlink()
    assert not (module / "main.tf").is_symlink()
    assert (module / "policy.json").is_symlink()
    assert (staged.tree / "modules" / "unused").is_symlink()
    # a second stage keeps .terraform and stays the same
    (staged.workdir / ".terraform").mkdir()
    do_stage(root, root)
    assert (staged.workdir / ".terraform").is_dir()
    assert sorted(p.name for p in staged.tree.iterdir()) == sorted([*names, ".terraform"])


def test_a_module_beside_the_terraform_folder_is_copied(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "terraform").mkdir(parents=True)
    (root / "modules" / "fn").mkdir(parents=True)
    (root / "modules" / "other").mkdir(parents=True)
    (root / "terraform" / "main.tf").write_text('module "fn" {\n  source = "../modules/fn"\n}\n')
    (root / "modules" / "fn" / "main.tf").write_text('module "inner" {\n  source = "../other"\n}\n')
    (root / "modules" / "other" / "main.tf").write_text("")
    staged = do_stage(root)
    for folder in ("modules", "modules/fn", "modules/other"):
        assert not (staged.tree / folder).is_symlink(), folder
    assert (staged.tree / "modules" / "other" / "main.tf").is_file()


def test_a_local_module_outside_the_repo_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "terraform").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    (root / "terraform" / "main.tf").write_text('\nmodule "fn" {\n  source = "../../shared"\n}\n')
    (root / "terraform" / "more.tf").write_text('module "again" {\n  source = "../../shared"\n}\n')
    with pytest.raises(ConfigError) as refused:
        do_stage(root)
    message = str(refused.value)
    # Follow-up 14: every call using it is named, with why and what to do.
    assert message.startswith(
        'terraform/main.tf:3 (module "fn"), terraform/more.tf:2 (module "again"): the local module '
    )
    assert "shared is outside the repo" in message and "Move or vendor the module into the repo" in message


def test_installed_modules_are_copied_safely_and_only_when_changed(tmp_path: Path) -> None:
    """Follow-up 6: the real folder's .terraform/modules feeds the staged copy's offline init."""
    real, work = tmp_path / "terraform", tmp_path / "staged"
    modules = real / ".terraform" / "modules"
    (modules / "m" / ".git").mkdir(parents=True)
    (modules / "m" / "main.tf").write_text("# module\n")
    (modules / "m" / "link.tf").symlink_to("/etc/hostname")
    (modules / "m" / ".git" / "HEAD").write_text("ref\n")
    assert not staging.copy_installed_modules(real, work)  # no modules.json: nothing init would read
    (modules / "modules.json").write_text('{"Modules": []}')
    assert staging.copy_installed_modules(real, work)
    copied = work / ".terraform" / "modules" / "m"
    assert (copied / "main.tf").read_text() == "# module\n"
    assert (copied / "link.tf").is_symlink() and not (copied / ".git").exists()
    assert not staging.copy_installed_modules(real, work)  # the same install: left alone
    (modules / "modules.json").write_text('{"Modules": [{"Key": ""}]}')
    assert staging.copy_installed_modules(real, work)


def test_placeholder_for_a_zip_the_build_has_not_made(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "dists.zip").unlink()
    staged = do_stage(root)

    made = staging.write_placeholder(staged, "../dists.zip")
    assert made == [staged.tree / "dists.zip"] and (staged.tree / "dists.zip").read_bytes() == b""
    assert staging.write_placeholder(staged, "../dists.zip") == []  # already there: nothing new
    nested = staging.write_placeholder(staged, "../build/zips/fn.zip")
    assert nested == [staged.tree / "build/zips/fn.zip", staged.tree / "build/zips", staged.tree / "build"]
    staging.remove_files(made + nested)
    assert not (staged.tree / "dists.zip").exists() and not (staged.tree / "build").exists()
    assert not (root / "dists.zip").exists()


def test_no_placeholder_in_the_repo_outside_the_staged_copy_or_for_other_files(tmp_path: Path) -> None:
    root = project(tmp_path)
    staged = do_stage(root)
    # functions/ is a symlink to the repo's folder in the staged tree: never written through.
    assert (staged.tree / "functions").is_symlink()
    assert staging.write_placeholder(staged, "../functions/fn.zip") == []
    assert not (root / "functions" / "fn.zip").exists()
    assert staging.write_placeholder(staged, "../../../../outside.zip") == []
    assert staging.write_placeholder(staged, "code-version.txt") == []
    assert staging.write_placeholder(staged, "../dists.zip") == []  # the repo's zip, linked in
