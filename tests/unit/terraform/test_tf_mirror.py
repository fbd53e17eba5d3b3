"""Provider mirror discovery and the harness's CLI config."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.terraform import mirror


def make_mirror(
    root: Path, provider: str = "registry.terraform.io/hashicorp/aws", packed: bool = False
) -> Path:
    pdir = root.joinpath(*provider.split("/"))
    if packed:
        pdir.mkdir(parents=True)
        (pdir / f"terraform-provider-{pdir.name}_5.100.0_linux_amd64.zip").write_bytes(b"PK")
    else:
        leaf = pdir / "5.100.0" / "linux_amd64"
        leaf.mkdir(parents=True)
        (leaf / f"terraform-provider-{pdir.name}_v5.100.0_x5").write_bytes(b"\x7fELF")
    return root


def test_providers_in_unpacked_and_packed(tmp_path: Path) -> None:
    make_mirror(tmp_path / "m")
    make_mirror(tmp_path / "m", "registry.terraform.io/hashicorp/random", packed=True)
    assert mirror.providers_in(tmp_path / "m") == (
        "registry.terraform.io/hashicorp/aws",
        "registry.terraform.io/hashicorp/random",
    )
    assert mirror.providers_in(tmp_path / "missing") == ()


def test_env_var_first_then_cli_config_then_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    rc = tmp_path / "user.tfrc"
    rc.write_text(
        'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n'
        'plugin_cache_dir = "~/cache"\n' % (tmp_path / "rcmirror")
    )
    environ = {
        "HOME": str(home),
        "TF_CLI_CONFIG_FILE": str(rc),
        mirror.PLUGIN_DIR_ENV: str(tmp_path / "envmirror"),
        "TF_PLUGIN_CACHE_DIR": str(tmp_path / "c2"),
    }
    dirs = mirror.candidate_dirs(environ)
    assert dirs[:4] == [tmp_path / "envmirror", tmp_path / "rcmirror", home / "cache", tmp_path / "c2"]
    assert home / ".terraform.d" / "plugins" in dirs
    assert Path("/opt/tf-plugins") == dirs[-1]


def test_terraformrc_used_when_cli_config_file_missing(tmp_path: Path) -> None:
    (tmp_path / ".terraformrc").write_text('plugin_cache_dir = "%s"\n' % (tmp_path / "cache"))
    make_mirror(tmp_path / "cache")
    found = mirror.find_mirrors({"HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": str(tmp_path / "nope")})
    assert found[0].path == tmp_path / "cache"


def test_implied_user_plugin_dir_found(tmp_path: Path) -> None:
    make_mirror(tmp_path / ".terraform.d" / "plugins")
    found = mirror.find_mirrors({"HOME": str(tmp_path)})
    assert found[0] == mirror.Mirror(
        tmp_path / ".terraform.d" / "plugins", ("registry.terraform.io/hashicorp/aws",)
    )


def test_explicit_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"LAMBDA_HARNESS_TF_PLUGIN_DIR.*does not exist.*hashicorp/aws"):
        mirror.find_mirrors({"HOME": str(tmp_path), mirror.PLUGIN_DIR_ENV: str(tmp_path / "gone")})
    with pytest.raises(ConfigError, match="tf_plugin_dir setting"):
        mirror.find_mirrors({"HOME": str(tmp_path)}, explicit=tmp_path / "gone")


def test_cli_config_first_mirror_wins_and_direct_excludes(tmp_path: Path) -> None:
    a = mirror.Mirror(tmp_path / "a", ("registry.terraform.io/hashicorp/aws",))
    b = mirror.Mirror(
        tmp_path / "b", ("registry.terraform.io/hashicorp/aws", "registry.terraform.io/hashicorp/null")
    )
    text = mirror.cli_config_text([a, b])
    assert text.count("filesystem_mirror") == 2
    assert f'path    = "{tmp_path / "b"}"\n    include = ["registry.terraform.io/hashicorp/null"]' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws", "registry.terraform.io/hashicorp/null"]' in text


def test_cli_config_without_mirrors_is_direct_only() -> None:
    text = mirror.cli_config_text([])
    assert "filesystem_mirror" not in text and "exclude = []" in text


def test_missing_provider_hint_says_what_to_set(tmp_path: Path) -> None:
    hint = mirror.missing_provider_hint([], [tmp_path])
    assert (
        "LAMBDA_HARNESS_TF_PLUGIN_DIR" in hint
        and "terraform providers mirror" in hint
        and str(tmp_path) in hint
    )
