"""Benchmark `lambda-harness build`: cold build, warm code-only rebuild, zip size.

    .venv/bin/python bench/build.py [--repo PATH] [--functions 50] [--skip-repo]

Two worker repos, each copied/generated into a temp folder (nothing in the
real repo is touched): this repo (functions/, terraform/, requirements.txt)
and a generated one with N handlers, N .tf files and a small requirements.txt.
"Cold" starts from an empty cache dir (pip downloads with your pip config);
"warm" changes one handler and rebuilds with the cache filled.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lambda_harness.packaging.builder import Builder, BuildResult
from lambda_harness.settings import load_settings
from lambda_harness.ui import PlainUI

GENERATED_REQUIREMENTS = "orjson==3.10.7\nattrs==24.2.0\n"

S3_MAIN = """
resource "aws_s3_bucket" "artifacts" {
  bucket = "artifacts"
}

resource "aws_s3_object" "dists" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "lambda/dists.zip"
  source      = "${path.module}/../dists.zip"
  source_hash = filemd5("${path.module}/../dists.zip")
}
"""

FUNCTION_TF = """
resource "aws_lambda_function" "{name}" {{
  function_name    = "{name}"
  role             = "arn:aws:iam::000000000000:role/lambda"
  handler          = "{name}.app.handler"
  runtime          = "python3.12"
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${{path.module}}/../dists.zip")
}}
"""


def generate_repo(root: Path, count: int, requirements: str = GENERATED_REQUIREMENTS) -> Path:
    """A worker repo with ``count`` package handlers sharing one library."""
    (root / "functions" / "shared").mkdir(parents=True)
    (root / "functions" / "shared" / "__init__.py").write_text("def ok(x):\n    return {'ok': x}\n")
    (root / "terraform").mkdir()
    (root / "terraform" / "main.tf").write_text(S3_MAIN)
    for i in range(count):
        name = f"fn_{i:02d}"
        pkg = root / "functions" / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "app.py").write_text(
            f"import orjson\nfrom shared import ok\n\n\ndef handler(event, context):\n"
            f"    return orjson.loads(orjson.dumps(ok({i})))\n"
        )
        (root / "terraform" / f"lambda_{name}.tf").write_text(FUNCTION_TF.format(name=name))
    (root / "requirements.txt").write_text(requirements)
    return root


def copy_repo(source: Path, root: Path) -> Path | None:
    """Copy functions/, terraform/*.tf and the lock of a worker repo (None when it has no Terraform yet)."""
    if not any((source / "terraform").glob("*.tf")) or not (source / "functions").is_dir():
        return None
    shutil.copytree(
        source / "functions", root / "functions", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (root / "terraform").mkdir()
    for tf in (source / "terraform").glob("*.tf"):
        shutil.copy2(tf, root / "terraform" / tf.name)
    for lock in ("requirements.txt", "Pipfile.lock"):
        if (source / lock).is_file():
            shutil.copy2(source / lock, root / lock)
    return root


def timed_build(project: Path, cache: Path) -> tuple[float, BuildResult]:
    settings = load_settings(project, {"cache_dir": cache})
    start = time.perf_counter()
    result = Builder(settings, PlainUI(quiet=True)).build()
    return time.perf_counter() - start, result


def bench(label: str, project: Path, warm_runs: int) -> None:
    cache = project.parent / "cache"
    cold, result = timed_build(project, cache)
    handler = next(iter(sorted((project / "functions").glob("*/app.py"))), None) or next(
        iter(sorted((project / "functions").glob("*.py")))
    )
    warm: list[float] = []
    for i in range(warm_runs):
        handler.write_text(handler.read_text() + f"\n# edit {i}\n")
        seconds, warm_result = timed_build(project, cache)
        assert warm_result.deps_cache_hit, "warm rebuild did not hit the dependency cache"
        warm.append(seconds)
    print(f"{label}:")
    print(f"  functions checked      {len(result.manifest['handlers'])}")
    print(
        f"  cold build             {cold:.2f} s   (empty cache: pip install for "
        f"{result.manifest['runtime']}/{result.manifest['architecture']})"
    )
    print(
        f"  warm code-only rebuild median {statistics.median(warm):.3f} s, "
        f"min {min(warm):.3f} s, max {max(warm):.3f} s  ({warm_runs} runs)"
    )
    print(
        f"  zip                    {result.zipped_size:,} bytes zipped, "
        f"{result.unzipped_size:,} unzipped, {result.manifest['files']} files"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--skip-repo", action="store_true")
    parser.add_argument(
        "--requirements",
        default=GENERATED_REQUIREMENTS,
        help="lock of the generated repo (\\n between lines), e.g. 'numpy==2.1.3\\npandas==2.2.3\\n...'",
    )
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, lambda-harness build benchmark")
    with tempfile.TemporaryDirectory(prefix="lh-bench-") as tmp:
        base = Path(tmp)
        if not args.skip_repo:
            (base / "repo").mkdir()
            copied = copy_repo(args.repo, base / "repo" / "project")
            if copied is None:
                print(f"{args.repo}: no functions/ or terraform/*.tf yet; skipping this repo")
            else:
                bench(f"this repo ({args.repo})", copied, args.warm_runs)
        (base / "gen").mkdir()
        requirements = args.requirements.replace("\\n", "\n")
        project = generate_repo(base / "gen" / "project", args.functions, requirements)
        label = f"generated repo ({args.functions} functions, {requirements.strip()!r})"
        bench(label, project, args.warm_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
