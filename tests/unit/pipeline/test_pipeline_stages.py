"""Pipeline orchestration with fake stages: verdicts, table, attestation, endpoint lifetime."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.errors import InvocationError, TerraformError
from lambda_harness.pipeline import Stages, run, smoke
from lambda_harness.promote.attestation import Exemptions
from lambda_harness.settings import Settings, load_settings
from lambda_harness.terraform.deploy import Deployment
from lambda_harness.terraform.inventory import DeployedFunction, Inventory
from lambda_harness.testing.invoker import Invocation
from lambda_harness.testing.results import CaseResult, ResultsRecorder, deployed_meta
from lambda_harness.testing.session import harness_test_env, pytest_arguments
from lambda_harness.ui import RecordingUI


def function(name: str) -> DeployedFunction:
    return DeployedFunction(
        name=name,
        handler=f"{name}.app.handler",
        runtime="python3.12",
        architecture="x86_64",
        environment={},
        timeout=3,
        memory_size=128,
        role="r",
        tf_file=Path(f"terraform/lambda_{name}.tf"),
        address=f"aws_lambda_function.{name}",
    )


@dataclass
class World:
    """Fake stages recording what the pipeline asked of them."""

    names: list[str]
    outcomes: dict[str, str] = field(default_factory=dict)  # name -> passed/failed; missing: no case
    exit_code: int = 0
    events: list[str] = field(default_factory=list)
    attested: list[Mapping[str, object]] = field(default_factory=list)
    pytest_args: list[str] = field(default_factory=list)
    declared: bool = False  # the plugin knows each function's declaration (as with a real inventory)

    def stages(self) -> Stages:
        @contextmanager
        def endpoint(settings: Settings, ui: Any) -> Iterator[str]:
            self.events.append("up")
            try:
                yield "http://127.0.0.1:9"
            finally:
                self.events.append("down")

        def build(settings: Settings, ui: Any) -> Any:
            self.events.append("build")
            return type("B", (), {"zip_path": settings.project_dir / "dists.zip", "sha256": "ab"})()

        def deploy(settings: Settings, ui: Any, url: str) -> Inventory:
            self.events.append(f"deploy {url}")
            return Inventory(url, "us-east-1", [function(n) for n in self.names])

        def pytest_stage(
            args: Sequence[str], cwd: Path, env: Mapping[str, str], stream: bool, timeout: float
        ) -> int:
            self.events.append("pytest")
            self.pytest_args = list(args)
            rec = ResultsRecorder(env["AWS_ENDPOINT_URL"], "us-east-1")
            if self.declared:
                inventory = Inventory("", "us-east-1", [function(n) for n in self.names])
                rec.deployed = deployed_meta(inventory, cwd)
            for name, outcome in self.outcomes.items():
                rec.cases.append(
                    CaseResult(
                        name,
                        "default",
                        outcome,
                        cold=True,
                        duration_ms=2.0,
                        init_ms=40.0,
                        max_memory_mb=33,
                        problems=[] if outcome == "passed" else ["$.x: bad"],
                        log_excerpt="" if outcome == "passed" else "Traceback: boom",
                    )
                )
            rec.write(Path(args[args.index("--harness-results") + 1]), self.exit_code)
            return self.exit_code

        def attest(
            settings: Settings, zip_path: Path, results: Mapping[str, object], exemptions: Exemptions
        ) -> Path:
            self.attested.append(results)
            return settings.harness_dir / "attestation.json"

        return Stages(build=build, endpoint=endpoint, deploy=deploy, pytest=pytest_stage, attest=attest)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "tests" / "integration" / "events").mkdir(parents=True)
    return load_settings(tmp_path, environ={"HOME": str(tmp_path)})


def test_green_run_writes_the_attestation_and_stops_the_endpoint(settings: Settings) -> None:
    world = World(["a", "b"], {"a": "passed", "b": "passed"})
    ui = RecordingUI()
    report = run(settings, ui, stages=world.stages())
    assert report.ok and report.failures == []
    assert world.events == ["build", "up", "deploy http://127.0.0.1:9", "pytest", "down"]
    assert world.attested == [{"a": {"passed": 1, "failed": 0}, "b": {"passed": 1, "failed": 0}}]
    assert report.attestation == settings.harness_dir / "attestation.json"
    assert ui.tables == [
        ("functions", [["a", "1", "0", "42.0", "-", "33"], ["b", "1", "0", "42.0", "-", "33"]])
    ]


def test_failed_case_fails_the_run_with_its_log_and_no_attestation(settings: Settings) -> None:
    world = World(["a", "b"], {"a": "passed", "b": "failed"}, exit_code=1)
    ui = RecordingUI()
    report = run(settings, ui, stages=world.stages())
    assert not report.ok and world.attested == []
    assert world.events[-1] == "down"
    assert any("b/default: $.x: bad" in w and "Traceback: boom" in w for w in ui.warnings)


def test_no_tests_collected_is_a_failure(settings: Settings) -> None:
    world = World(["a"], {}, exit_code=5)
    report = run(settings, RecordingUI(), stages=world.stages())
    assert not report.ok
    assert "pytest collected no tests" in report.failures[-1]
    assert world.attested == []


def test_nothing_deployed_is_a_failure(settings: Settings) -> None:
    report = run(settings, RecordingUI(), stages=World([], {}).stages())
    assert not report.ok and "no aws_lambda_function was deployed" in report.failures[-1]


def test_endpoint_stops_when_pytest_blows_up(settings: Settings) -> None:
    world = World(["a"])
    stages = world.stages()

    def broken(args: Sequence[str], cwd: Path, env: Mapping[str, str], stream: bool, timeout: float) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(
            settings,
            RecordingUI(),
            stages=Stages(stages.build, stages.endpoint, stages.deploy, broken, stages.attest),
        )
    assert world.events[-1] == "down"


def test_pytest_arguments_and_environment(settings: Settings) -> None:
    args = pytest_arguments(settings, "http://127.0.0.1:7", ["-k", "x"])
    assert args[0] == str(settings.project_dir / "tests" / "integration")
    assert str(settings.cases_dir) not in args[:1]  # inside tests/integration: not passed twice
    assert args[args.index("--harness-inventory") + 1] == str(settings.harness_dir / "inventory.json")
    assert args[args.index("--junitxml") + 1] == str(settings.harness_dir / "junit.xml")
    assert args[-2:] == ["-k", "x"]
    env = harness_test_env(
        {"AWS_PROFILE": "prod", "PATH": "/bin", "LAMBDA_HARNESS_PORT": "1"}, "http://127.0.0.1:7", "eu-west-1"
    )
    assert "AWS_PROFILE" not in env and "LAMBDA_HARNESS_PORT" not in env
    assert (env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_DEFAULT_REGION"]) == (
        "http://127.0.0.1:7",
        "test",
        "eu-west-1",
    )


class FakeInvoker:
    def __init__(self, outcomes: dict[str, Invocation | Exception]) -> None:
        self.outcomes = outcomes
        self.events: list[object] = []

    def invoke(self, name: str, event: object = None, **kwargs: Any) -> Invocation:
        self.events.append(event)
        outcome = self.outcomes[name]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def inv(name: str, error_type: str | None = None, message: str = "") -> Invocation:
    return Invocation(
        name=name,
        status_code=200,
        payload={},
        raw_payload=b"{}",
        function_error="Unhandled" if error_type else None,
        error_type=error_type,
        error_message=message or None,
        init_ms=50.0,
    )


def test_smoke_fails_only_on_init_errors_and_names_the_tf_file(settings: Settings) -> None:
    world = World(["good", "raises", "broken", "gone"])
    fake = FakeInvoker(
        {
            "good": inv("good"),
            "raises": inv("raises", "KeyError", "'Records'"),
            "broken": inv("broken", "Runtime.ImportModuleError", "No module named 'orjson'"),
            "gone": InvocationError("function gone is not deployed"),
        }
    )
    stages = world.stages()
    stages = Stages(
        stages.build,
        stages.endpoint,
        stages.deploy,
        stages.pytest,
        stages.attest,
        invoker=lambda url, inventory: fake,
    )  # type: ignore[arg-type,return-value]
    ui = RecordingUI()
    report = smoke(settings, ui, stages=stages)
    assert not report.ok
    assert fake.events[0] == {"__lambda_harness_smoke__": True}
    status = {row[0]: row[1] for row in report.rows}
    assert status == {"good": "ok", "raises": "ok", "broken": "FAILED", "gone": "FAILED"}
    assert any(
        "Runtime.ImportModuleError: No module named 'orjson' (declared in terraform/lambda_broken.tf)" in f
        for f in report.failures
    )
    assert world.events[-1] == "down"


def test_a_red_run_removes_the_previous_attestation(settings: Settings) -> None:
    stale = settings.harness_dir / "attestation.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    run(settings, RecordingUI(), stages=World(["a"], {"a": "failed"}, exit_code=1).stages())
    assert not stale.exists()


class FakeCheck:
    """A second plan that ran beside the tests (``IdempotencyCheck``'s face)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.cancelled = False

    def wait(self) -> float:
        if self.error is not None:
            raise self.error
        return 1.5

    def cancel(self) -> None:
        self.cancelled = True


def with_deployment(world: World, mode: str, check: FakeCheck | None = None) -> Stages:
    stages = world.stages()

    def deploy(settings: Settings, ui: Any, url: str) -> Deployment:
        world.events.append(f"deploy {url}")
        inventory = Inventory(url, "us-east-1", [function(n) for n in world.names])
        return Deployment(inventory, mode, check=check, checked=check is None)  # type: ignore[arg-type]

    return replace(stages, deploy=deploy)


def test_a_green_warm_run_is_not_attested_and_says_so(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"})
    ui = RecordingUI()
    report = run(settings, ui, stages=with_deployment(world, "warm"))
    assert report.ok and world.attested == [] and report.attestation is None
    assert report.not_attested == "warm run"
    assert "all functions passed; not attested: warm run" in ui.infos


def test_an_incremental_apply_is_not_attested(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"})
    report = run(settings, RecordingUI(), stages=with_deployment(world, "incremental", FakeCheck()))
    assert report.ok and world.attested == [] and report.not_attested.startswith("incremental apply")


def test_second_plan_beside_the_tests_is_awaited_before_the_attestation(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"})
    ui = RecordingUI()
    report = run(settings, ui, stages=with_deployment(world, "from-scratch", FakeCheck()))
    assert report.ok and len(world.attested) == 1
    assert "terraform plan (must be empty after apply, ran beside the tests): empty, 1.5s" in ui.infos


def test_a_non_empty_second_plan_fails_the_run_after_the_table(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"})
    ui = RecordingUI()
    check = FakeCheck(TerraformError("perpetual diff: aws_s3_bucket.x"))
    report = run(settings, ui, stages=with_deployment(world, "from-scratch", check))
    assert not report.ok and world.attested == [] and ui.tables
    assert "perpetual diff: aws_s3_bucket.x" in report.failures


def test_the_second_plan_is_stopped_when_the_tests_blow_up(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"})
    check = FakeCheck()
    stages = with_deployment(world, "from-scratch", check)

    def broken(args: Sequence[str], cwd: Path, env: Mapping[str, str], stream: bool, timeout: float) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(settings, RecordingUI(), stages=replace(stages, pytest=broken))
    assert check.cancelled and world.events[-1] == "down"


def test_advice_is_printed_and_never_fails_the_run_by_default(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"}, declared=True)
    ui = RecordingUI()
    report = run(settings, ui, stages=world.stages())
    assert report.ok
    limits = report.results["functions"]["a"]["limits"]
    assert limits["peak_memory_mb"] == 33 and limits["memory_headroom"] == 3.88
    assert report.results["functions"]["a"]["tf_file"] == "terraform/lambda_a.tf"


def test_a_threshold_setting_makes_the_advice_fail_the_run(settings: Settings) -> None:
    world = World(["a"], {"a": "passed"}, declared=True)
    strict = settings.with_(fail_on_memory_headroom=4.0)
    report = run(strict, RecordingUI(), stages=world.stages())
    assert not report.ok and world.attested == []
    assert report.failures == [
        "a: peak memory 33 MB leaves 3.88x headroom under its memory_size 128 MB (declared in "
        "terraform/lambda_a.tf), less than fail-on-memory-headroom = 4; raise memory_size to 192 MB"
    ]


def test_verdict_names_the_first_problems_by_their_first_line() -> None:
    from lambda_harness.pipeline import verdict

    many = [f"fn{i}/default: handler failed: KeyError\n  log:\n    Traceback" for i in range(7)]
    text = verdict(many)
    assert text.startswith("7 problem(s), not attested: fn0/default: handler failed: KeyError; fn1/")
    assert "Traceback" not in text and text.endswith("; and 2 more")
    assert verdict(["x" * 200]).endswith("x" * 117 + "...")
    assert verdict([]) == "the tests failed, not attested"
