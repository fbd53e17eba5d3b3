"""A layer's wheels are built for the functions that use it, not for its first compatible_* value."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.packaging.archives import BytesSource
from lambda_harness.packaging.selection import (
    layer_compatibility_warnings,
    layer_platform,
    mixed_layer_error,
)
from lambda_harness.packaging.tfconfig import TfFunction, TfLayer
from lambda_harness.packaging.wheels import Platform, platform_specific
from lambda_harness.packaging.zipper import Source

PROJECT = Path("/p")


def fn(name: str, runtime: str, arch: str | None) -> TfFunction:
    return TfFunction(
        address=f"aws_lambda_function.{name}",
        name=name,
        handler="app.handler",
        runtime=runtime,
        architectures=(arch,) if arch else (),
        tf_file=PROJECT / "terraform" / f"{name}.tf",
        line=1,
        filename=None,
        filename_expr=None,
        s3_bucket=None,
        s3_key=None,
        memory_size=None,
        timeout=None,
    )


def layer(runtimes: tuple[str, ...] = (), archs: tuple[str, ...] = ()) -> TfLayer:
    """As Terraform's plan returns it: the sets sorted (arm64 and the oldest runtime first)."""
    return TfLayer(
        address="aws_lambda_layer_version.shared",
        name="shared",
        filename=PROJECT / "build" / "shared.zip",
        filename_expr=None,
        compatible_runtimes=runtimes,
        compatible_architectures=archs,
        tf_file=PROJECT / "terraform" / "main.tf",
        line=12,
    )


def wheel(dist: str, *tags: str) -> dict[str, Source]:
    pure = all(t.endswith("-none-any") for t in tags)
    text = f"Wheel-Version: 1.0\nRoot-Is-Purelib: {str(pure).lower()}\n"
    text += "".join(f"Tag: {t}\n" for t in tags)
    return {f"python/{dist}.dist-info/WHEEL": BytesSource(text.encode())}


def test_users_that_agree_decide_the_platform_whatever_the_layer_lists_first() -> None:
    shared = layer(("python3.11", "python3.12"), ("arm64", "x86_64"))
    chosen = layer_platform(shared, [fn("a", "python3.12", "x86_64"), fn("b", "python3.12", None)])
    assert chosen.platform == Platform("python3.12", "x86_64")  # no architectures: AWS's x86_64
    assert not chosen.mixed
    assert layer_compatibility_warnings(shared, chosen, PROJECT) == []


def test_users_on_two_platforms_and_native_wheels_are_an_error_naming_all() -> None:
    shared = layer(("python3.12",), ("arm64", "x86_64"))
    chosen = layer_platform(shared, [fn("a", "python3.12", "x86_64"), fn("b", "python3.12", "arm64")])
    assert chosen.mixed
    native = platform_specific(
        {**wheel("orjson-3.10.7", "cp312-cp312-manylinux_2_17_x86_64"), **wheel("six-1.16.0", "py3-none-any")}
    )
    assert native == ["orjson-3.10.7 (cp312-cp312-manylinux_2_17_x86_64)"]
    message = str(mixed_layer_error(shared, "shared", chosen, native, PROJECT))
    assert message.startswith("terraform/main.tf:12: aws_lambda_layer_version.shared is used by functions")
    assert "python3.12/arm64: b; python3.12/x86_64: a" in message
    assert "orjson-3.10.7" in message
    assert "split the layer per platform" in message and "pure Python" in message


def test_a_pure_python_layer_serves_every_platform() -> None:
    users = [fn("a", "python3.12", "x86_64"), fn("b", "python3.11", "arm64")]
    chosen = layer_platform(layer(), users)
    assert chosen.mixed
    # the oldest runtime: pure wheels chosen for it also run on the newer one; x86_64 when a user is
    assert chosen.platform == Platform("python3.11", "x86_64")
    assert platform_specific({**wheel("six-1.16.0", "py2-none-any", "py3-none-any")}) == []
    assert platform_specific({"python/acme/__init__.py": BytesSource(b"")}) == []


def test_a_vendored_extension_without_a_wheel_is_platform_specific() -> None:
    entries: dict[str, Source] = {"python/fast/_speed.cpython-312-x86_64-linux-gnu.so": BytesSource(b"ELF")}
    assert platform_specific(entries) == ["python/fast/_speed.cpython-312-x86_64-linux-gnu.so"]


def test_without_users_the_declared_value_matching_the_default_wins() -> None:
    chosen = layer_platform(layer(("python3.11", "python3.12"), ("arm64", "x86_64")), [])
    assert chosen.platform == Platform("python3.12", "x86_64") and chosen.users == {}
    only_arm = layer_platform(layer(("python3.10", "python3.11"), ("arm64",)), [])
    assert only_arm.platform == Platform("python3.10", "arm64")  # the default is not listed: the first
    assert layer_platform(None, []).platform == Platform("python3.12", "x86_64")


def test_a_user_the_compatible_lists_leave_out_is_a_warning() -> None:
    shared = layer(("python3.11",), ("arm64",))
    chosen = layer_platform(shared, [fn("a", "python3.12", "x86_64")])
    assert chosen.platform == Platform("python3.12", "x86_64")  # built for the user anyway
    runtime, arch = layer_compatibility_warnings(shared, chosen, PROJECT)
    assert runtime.startswith("terraform/main.tf:12: aws_lambda_layer_version.shared: function a")
    assert "compatible_runtimes (python3.11) do not list python3.12" in runtime
    assert "AWS does not refuse it" in runtime
    assert "compatible_architectures (arm64) do not list x86_64" in arch
