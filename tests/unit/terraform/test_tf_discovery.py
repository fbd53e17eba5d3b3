"""What Terraform deploys, read from ``show -json`` (a saved plan of the module_for_each fixture)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from lambda_harness.packaging.tfconfig import read_config
from lambda_harness.settings import load_settings
from lambda_harness.terraform import discovery, reads

DATA = Path(__file__).parent / "data"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "module_for_each"


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE / "terraform", root / "terraform")
    return root


def layout(root: Path) -> discovery.Layout:
    tree = root / ".harness" / "tf" / "embedded" / "tree"
    return discovery.Layout(root, root / "terraform", tree / "terraform", tree, root)


def test_functions_by_deployed_name_with_where_they_are_declared(tmp_path: Path) -> None:
    root = repo(tmp_path)
    show = json.loads((DATA / "show_module_for_each.json").read_text())
    config = discovery.config_from_plan(show, layout(root))
    invoices, payments = config.functions
    assert invoices.name == "billing-dev-invoices" and invoices.handler == "billing.invoices.handler"
    assert (
        invoices.declared
        == 'terraform/main.tf:17: module "worker" key "invoices" deploys billing-dev-invoices'
    )
    assert invoices.handler_at == "terraform/terraform.tfvars:4"
    assert (invoices.tf_file, invoices.line) == (root / "terraform" / "main.tf", 17)
    assert payments.memory_size == 256 and payments.runtime == "python3.12"
    assert payments.s3_key == "lambda/billing-dev.zip"
    (bundle,) = config.s3_objects
    assert bundle.source == root / "dists.zip"  # "./../dists.zip" from the staged workdir, mapped back


def test_a_nested_module_instance_is_named_beside_the_root_call(tmp_path: Path) -> None:
    """The root call's line alone does not say which nested instance deploys the function."""
    root = repo(tmp_path)
    show = json.loads((DATA / "show_module_for_each.json").read_text())
    child = show["planned_values"]["root_module"]["child_modules"][0]
    nested = 'module.worker["invoices"].module.function["export"]'
    for res in child["resources"]:
        res["address"] = f"{nested}.aws_lambda_function.this"
    invoices = discovery.config_from_plan(show, layout(root)).functions[0]
    assert invoices.declared == (
        f'terraform/main.tf:17: module "worker" key "invoices" ({nested}) deploys billing-dev-invoices'
    )


def test_modules_and_for_each_need_the_plan(tmp_path: Path) -> None:
    root = repo(tmp_path)
    why = discovery.needs_discovery(read_config(root / "terraform"), root / "terraform")
    assert why == "functions or layers are declared in the local module lambda"


def test_a_plain_root_module_does_not(tmp_path: Path) -> None:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "main.tf").write_text(
        'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  handler = "app.handler"\n'
        '  runtime = "python3.12"\n  filename = "../dists.zip"\n  role = "r"\n}\n'
    )
    assert discovery.needs_discovery(read_config(tf), tf) is None
    (tf / "zip.tf").write_text('data "archive_file" "f" {\n  type = "zip"\n  output_path = "x.zip"\n}\n')
    assert discovery.needs_discovery(read_config(tf), tf) == 'a data "archive_file" builds a zip'


def test_the_cache_follows_the_configuration(tmp_path: Path) -> None:
    root = repo(tmp_path)
    settings = load_settings(root, {}, {"HOME": str(tmp_path)})
    assert discovery.cached_plan(settings) is None
    discovery.save_plan(settings, {"planned_values": {}})
    assert discovery.cached_plan(settings) == {"planned_values": {}}
    (root / "terraform" / "modules" / "lambda" / "main.tf").write_text("# changed\n")
    assert discovery.cached_plan(settings) is None


def test_the_cache_key_follows_every_input_of_the_plan(tmp_path: Path) -> None:
    """The harness's tfvars, the world and the settings too (follow-up 5)."""
    root = repo(tmp_path)
    tfvars = root / "tests" / "integration" / "harness.tfvars"
    tfvars.parent.mkdir(parents=True)
    tfvars.write_text('env = "local"\n')
    settings = load_settings(root, {}, {"HOME": str(tmp_path)})
    keys = {discovery.cache_key(settings)}
    tfvars.write_text('env = "qa"\n')
    keys.add(discovery.cache_key(settings))
    world = root / "tests" / "integration" / "world"
    world.mkdir()
    (world / "main.tf").write_text('resource "aws_ssm_parameter" "p" {\n  name = "/a"\n}\n')
    keys.add(discovery.cache_key(settings))
    keys.add(discovery.cache_key(settings.with_(region="eu-west-3")))
    keys.add(discovery.cache_key(settings.with_(workspace="dev")))
    assert len(keys) == 5
    assert discovery.cache_key(settings) == discovery.cache_key(settings)


ARCHIVE_FIXTURE = FIXTURE.parent / "archive_file"


def test_archives_and_layers_through_module_variables(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(ARCHIVE_FIXTURE / "terraform", root / "terraform")
    show = json.loads((DATA / "show_archive_file.json").read_text())
    config = discovery.config_from_plan(show, layout(root))
    ingest = next(f for f in config.functions if f.name == "events-ingest")
    assert ingest.filename == root / "build" / "events-ingest.zip"
    # layers = var.layers in the module <- [aws_lambda_layer_version.common.arn] in the root
    assert ingest.layer_files == (root / "build" / "common-layer.zip",)
    archives = {a.address: a for a in config.archives}
    common = archives["data.archive_file.common"]
    assert common.output_path == root / "build" / "common-layer.zip"
    assert common.config["source_dir"] == str(root / "layers" / "common")
    this = archives['module.function["ingest"].data.archive_file.this']
    assert this.config["excludes"] == ["README.md", "tests"]
    assert (this.tf_file, this.line) == (root / "terraform" / "main.tf", 22)


def test_a_handler_typo_fails_the_build_naming_the_module_call_and_the_tfvars_line(tmp_path: Path) -> None:
    """The build on a config read from Terraform's plan: the message names where the team wrote it."""
    import pytest

    from lambda_harness.errors import BuildError
    from lambda_harness.packaging.builder import Builder
    from lambda_harness.ui import RecordingUI

    root = repo(tmp_path)
    shutil.copytree(FIXTURE / "functions", root / "functions")
    tfvars = root / "terraform" / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text().replace("billing.payments.handler", "billing.payments.hnadler"))
    show = json.loads(
        (DATA / "show_module_for_each.json")
        .read_text()
        .replace("billing.payments.handler", "billing.payments.hnadler")
    )
    config = discovery.config_from_plan(show, layout(root))
    settings = load_settings(root, {"cache_dir": tmp_path / "cache"}, {"HOME": str(tmp_path)})
    with pytest.raises(BuildError) as info:
        Builder(settings, RecordingUI(), config=config).build()
    assert str(info.value) == (
        'terraform/main.tf:17: module "worker" key "payments" deploys billing-dev-payments with handler '
        '"billing.payments.hnadler" (set at terraform/terraform.tfvars:5): not found in dists.zip '
        '(module billing/payments.py has no top-level hnadler). Did you mean "billing.payments.handler"?'
    )


FILESET_FIXTURE = FIXTURE.parent / "fileset"


def test_the_cache_key_follows_the_files_the_configuration_reads(tmp_path: Path) -> None:
    """explore P-B1: function.json read by file(), function folders found by fileset()."""
    root = tmp_path / "repo"
    shutil.copytree(FILESET_FIXTURE, root)
    settings = load_settings(root, {}, {"HOME": str(tmp_path)})
    discovery.save_plan(settings, {"planned_values": {}})
    key = discovery.cache_key(settings)
    # a handler edit, the zips and manifests a build writes, an event case: the plan stays
    (root / "functions" / "export" / "main.py").write_text("def handler(event, context):\n    return 2\n")
    (root / "build").mkdir()
    (root / "build" / "geo-export.zip").write_bytes(b"PK")
    (root / "build" / "geo-export.zip.json").write_text("{}")
    (root / "tests" / "integration" / "events" / "geo-export" / "default.json").write_text('{"rows": 4}\n')
    assert discovery.cache_key(settings) == key
    assert discovery.cached_plan(settings) == {"planned_values": {}}
    # the settings a .tf reads with file(): planned again, and the check says which file
    (root / "functions" / "export" / "function.json").write_text('{"handler": "main.hander"}\n')
    check = discovery.check_cache(settings)
    assert check.show is None and check.changed == ("functions/export/function.json",)
    (root / "functions" / "export" / "function.json").write_text(
        '{"handler": "main.handler", "timeout": 10}\n'
    )
    assert discovery.cache_key(settings) == key
    # a new folder fileset() finds
    (root / "functions" / "report").mkdir()
    (root / "functions" / "report" / "main.py").write_text("def handler(event, context):\n    return 1\n")
    assert discovery.check_cache(settings).changed == ("functions/report/main.py",)


def test_a_configuration_that_reads_no_file_is_not_keyed_on_the_repo(tmp_path: Path) -> None:
    root = repo(tmp_path)
    settings = load_settings(root, {}, {"HOME": str(tmp_path)})
    key = discovery.cache_key(settings)
    (root / "notes.json").write_text("{}")
    assert reads.read_files(settings) == {}
    assert discovery.cache_key(settings) == key
