"""Provider mirror discovery and the harness's CLI config."""

from __future__ import annotations

import os
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
        'plugin_cache_dir = "$HOME/cache"\n' % (tmp_path / "rcmirror")
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


def cli_config(tmp_path: Path, text: str | bytes, name: str = "user.tfrc") -> dict[str, str]:
    """An environment whose TF_CLI_CONFIG_FILE holds ``text``."""
    rc = tmp_path / name
    if isinstance(text, bytes):
        rc.write_bytes(text)
    else:
        rc.write_text(text)
    return {"HOME": str(tmp_path / "home"), "TF_CLI_CONFIG_FILE": str(rc)}


def from_cli_config(environ: dict[str, str]) -> list[Path]:
    """The candidates that come from the CLI config (the fixed, implied folders dropped)."""
    home = Path(environ["HOME"])
    implied = {home / ".terraform.d" / "plugins", home / ".local" / "share" / "terraform" / "plugins"}
    return [
        d
        for d in mirror.candidate_dirs(environ)
        if d not in implied and not str(d).startswith(("/usr/", "/opt/"))
    ]


def test_commented_out_settings_are_ignored(tmp_path: Path) -> None:
    environ = cli_config(
        tmp_path,
        """
# provider_installation { filesystem_mirror { path = "/hash" } }
// plugin_cache_dir = "/slashes"
/*
provider_installation {
  filesystem_mirror {
    path = "/block-comment"
  }
}
*/
provider_installation {
  # filesystem_mirror { path = "/inside" }
  direct {}
}
""",
    )
    assert from_cli_config(environ) == []


def test_every_filesystem_mirror_in_order_then_the_cache(tmp_path: Path) -> None:
    environ = cli_config(
        tmp_path,
        """
plugin_cache_dir = "/cache"
provider_installation {
  filesystem_mirror {
    path    = "/first"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  network_mirror {
    url = "https://mirror.example/"
  }
  filesystem_mirror {
    path = "/second"
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
""",
    )
    assert from_cli_config(environ) == [Path("/first"), Path("/second"), Path("/cache")]


def test_plugin_cache_dir_expands_environment_variables_as_terraform_does(tmp_path: Path) -> None:
    # Terraform runs os.ExpandEnv on plugin_cache_dir only: $NAME and ${NAME}, unset is empty;
    # filesystem_mirror paths and `~` are taken as written.
    environ = cli_config(
        tmp_path,
        'plugin_cache_dir = "${HOME}/.terraform.d/$CACHE_NAME$UNSET"\n'
        'provider_installation {\n  filesystem_mirror {\n    path = "$HOME/m"\n  }\n}\n',
    )
    environ["CACHE_NAME"] = "plugin-cache"
    assert from_cli_config(environ) == [
        Path("$HOME/m"),
        tmp_path / "home" / ".terraform.d" / "plugin-cache",
    ]
    assert mirror.expand_env("~/x/$HOME", {"HOME": "/h"}) == "~/x//h"


def test_json_syntax_cli_config(tmp_path: Path) -> None:
    environ = cli_config(
        tmp_path,
        '{"plugin_cache_dir": "/cache", '
        '"provider_installation": {"filesystem_mirror": [{"path": "/a"}, {"path": "/b"}]}}',
        name="user.tfrc.json",
    )
    assert from_cli_config(environ) == [Path("/a"), Path("/b"), Path("/cache")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("provider_installation {\n  filesystem_mirror {\n", "cannot parse"),
        (b'plugin_cache_dir = "\xff"\n', "cannot read.*not UTF-8"),
        ("[1, 2]", "cannot parse"),
    ],
)
def test_a_broken_cli_config_is_an_error_naming_the_file(
    tmp_path: Path, text: str | bytes, reason: str
) -> None:
    environ = cli_config(tmp_path, text)
    with pytest.raises(ConfigError, match=f"{tmp_path / 'user.tfrc'}: {reason}.*TF_CLI_CONFIG_FILE"):
        mirror.find_mirrors(environ)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_cli_config_is_an_error_naming_the_file(tmp_path: Path) -> None:
    environ = cli_config(tmp_path, 'plugin_cache_dir = "/cache"\n')
    Path(environ["TF_CLI_CONFIG_FILE"]).chmod(0)
    with pytest.raises(ConfigError, match=r"user\.tfrc: cannot read .*Permission denied"):
        mirror.find_mirrors(environ)


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
