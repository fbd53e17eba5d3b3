"""Size limits, platform tags, runtime selection and what code goes into the zip."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.limits import Limits, PackageSize, check_unzipped, check_zipped
from lambda_harness.packaging.manifest import package_sizes
from lambda_harness.packaging.selection import keep_code_path, select_platform
from lambda_harness.packaging.tfconfig import TfFunction
from lambda_harness.packaging.wheels import Platform, parse_platform
from lambda_harness.packaging.zipper import EntryStat

TOP = [PackageSize("numpy", 90, 30), PackageSize("pandas", 50, 20)]


def test_unzipped_limit_error_and_warning():
    with pytest.raises(BuildError, match=r"biggest packages: numpy 0\.0 MB, pandas"):
        check_unzipped(101, TOP, Limits(unzipped_max=100))
    assert check_unzipped(85, TOP, Limits(unzipped_max=100))[0].startswith("dists.zip unzips to")
    assert check_unzipped(70, TOP, Limits(unzipped_max=100)) == []


def test_zipped_limit_depends_on_upload_kind():
    with pytest.raises(BuildError, match=r"direct upload.*aws_s3_object"):
        check_zipped(101, TOP, Limits(zipped_max=100), direct_upload=True)
    assert "fine from S3" in check_zipped(101, TOP, Limits(zipped_max=100), direct_upload=False)[0]
    assert "direct-upload limit" in check_zipped(81, TOP, Limits(zipped_max=100), direct_upload=True)[0]


def test_platform_tags_follow_the_runtime_glibc():
    p312 = Platform("python3.12", "arm64")
    assert p312.tags()[0] == "manylinux_2_34_aarch64" and p312.tags()[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_17_aarch64" in p312.tags()
    p311 = Platform("python3.11", "x86_64")
    assert p311.tags()[0] == "manylinux_2_26_x86_64" and "manylinux_2_28_x86_64" not in p311.tags()
    assert p311.python_version == "3.11"


@pytest.mark.parametrize(("runtime", "arch"), [("nodejs20.x", "x86_64"), ("python3.12", "sparc")])
def test_parse_platform_rejects(runtime, arch):
    with pytest.raises(BuildError):
        parse_platform(runtime, arch)


def fn(name: str, runtime: str | None, arch: str) -> TfFunction:
    return TfFunction(
        address=f"aws_lambda_function.{name}",
        name=name,
        handler="a.b",
        runtime=runtime,
        architectures=(arch,),
        tf_file=Path(f"/p/terraform/{name}.tf"),
        line=1,
        filename=None,
        filename_expr=None,
        s3_bucket=None,
        s3_key=None,
        memory_size=None,
        timeout=None,
    )


def test_select_platform():
    assert select_platform([], Path("/p")) == Platform("python3.12", "x86_64")
    assert select_platform([fn("a", "python3.11", "arm64")] * 2, Path("/p")) == Platform(
        "python3.11", "arm64"
    )
    with pytest.raises(BuildError, match=r"One dists\.zip carries native wheels"):
        select_platform([fn("a", "python3.11", "arm64"), fn("b", "python3.12", "arm64")], Path("/p"))


def test_keep_code_path(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    keep = {
        "pkg": True,
        "tests": False,
        "app.py": True,
        "test_app.py": False,
        "app_test.py": False,
        "x.pyc": False,
        ".env": False,
        "requirements.txt": False,
        "requirements-dev.in": False,
        "conftest.py": False,
        "data.json": True,
        "run.sh": True,
    }
    for name, expected in keep.items():
        path = tmp_path / name
        if not path.exists():
            path.write_text("")
        assert keep_code_path(path, frozenset()) is expected, name
    assert keep_code_path(tmp_path / "app.py", frozenset({tmp_path / "app.py"})) is False


def test_unknown_runtime_or_architecture_does_not_vote():
    unknown = TfFunction(
        address="aws_lambda_function.u",
        name=None,
        handler="a.b",
        runtime=None,
        architectures=(),
        tf_file=Path("/p/terraform/u.tf"),
        line=1,
        filename=None,
        filename_expr=None,
        s3_bucket=None,
        s3_key=None,
        memory_size=None,
        timeout=None,
    )
    assert select_platform([unknown, fn("a", "python3.13", "arm64")], Path("/p")) == Platform(
        "python3.13", "arm64"
    )


def test_package_sizes_fold_dist_info_into_its_package():
    stats = [
        EntryStat("orjson/__init__.py", 10, 5),
        EntryStat("orjson/orjson.so", 100, 50),
        EntryStat("orjson-3.13.0.dist-info/METADATA", 7, 3),
        EntryStat("python_dateutil-2.9.0.dist-info/METADATA", 4, 2),
        EntryStat("app.py", 1, 1),
    ]
    sizes = {p.name: (p.unzipped, p.zipped) for p in package_sizes(stats)}
    assert sizes == {"orjson": (117, 58), "python_dateutil-2.9.0.dist-info": (4, 2), "app.py": (1, 1)}
