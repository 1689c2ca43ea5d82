"""The ASL files themselves: valid for Step Functions once substituted (the `asl-validator`
npm package, pinned in package-lock.json), state names unique across every scope, every
transition lands, every placeholder is substituted."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.description import DESCRIPTION, REPO_ROOT, Ref, StateMachineSpec

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
# What CloudFormation puts in place of each kind of placeholder, in the form AWS would.
DEPLOYED_VALUE = {
    "function_arn": "arn:aws:lambda:eu-west-2:123456789012:function:CustomerImportStack-{name}",
    "bucket": "customerimportstack-{name}-1a2b3c4d5e6f",
    "table": "CustomerImportStack-{name}-1A2B3C4D5E6F",
    "state_machine_arn": "arn:aws:states:eu-west-2:123456789012:stateMachine:{name}",
}


def _definition(spec: StateMachineSpec) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(spec.definition_path.read_text())
    return definition


def _substituted(spec: StateMachineSpec) -> str:
    """The definition as deployed: every placeholder replaced as CloudFormation would."""

    def value(match: re.Match[str]) -> str:
        substitution = spec.substitutions[match.group(1)]
        if isinstance(substitution, Ref):
            return DEPLOYED_VALUE[substitution.kind].format(name=substitution.name)
        return substitution

    return PLACEHOLDER.sub(value, spec.definition_path.read_text())


def _validate(definition: str, directory: Path) -> subprocess.CompletedProcess[str]:
    path = directory / "definition.asl.json"
    path.write_text(definition)
    assert ASL_VALIDATOR.exists(), "run `make setup`: it installs asl-validator from package-lock"
    return subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _scopes(machine: dict[str, Any], path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """The machine and every machine nested in it (Map processors, Parallel branches)."""
    yield path, machine
    for name, state in machine["States"].items():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _scopes(processor, f"{path}.{name}")
        for index, branch in enumerate(state.get("Branches", [])):
            yield from _scopes(branch, f"{path}.{name}[{index}]")


def _transitions(state: dict[str, Any]) -> list[str]:
    """Every state name a state can move to: Next, Default, and the Next of choices and catchers."""
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [rule["Next"] for rule in state.get("Choices", []) + state.get("Catch", [])]
    return targets


@pytest.fixture(params=DESCRIPTION.state_machines, ids=lambda spec: spec.name)
def spec(request: pytest.FixtureRequest) -> StateMachineSpec:
    machine: StateMachineSpec = request.param
    return machine


def test_definition_is_a_json_object_with_states(spec: StateMachineSpec) -> None:
    # Given the definition file
    # When it is parsed
    definition = _definition(spec)
    # Then it is a JSON object that starts somewhere
    assert isinstance(definition, dict)
    assert definition["StartAt"]
    assert definition["States"]


def test_the_substituted_definition_passes_the_asl_validator(
    spec: StateMachineSpec, tmp_path: Path
) -> None:
    # Given the definition with its placeholders filled as CloudFormation fills them
    definition = _substituted(spec)
    # When the ASL validator checks it (schema, paths, ARNs, unique state names)
    checked = _validate(definition, tmp_path)
    # Then it finds nothing that Step Functions would refuse
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_asl_validator_refuses_a_state_name_used_in_two_scopes(tmp_path: Path) -> None:
    # Given the import workflow with a Map's inner state renamed to a top-level state's name
    machine = json.loads(_substituted(DESCRIPTION.state_machines[0]))
    processor = machine["States"]["ImportBatches"]["ItemProcessor"]
    processor["States"]["Finalize"] = processor["States"].pop(processor["StartAt"])
    processor["StartAt"] = "Finalize"
    # When the validator checks it
    checked = _validate(json.dumps(machine), tmp_path)
    # Then it refuses it, naming the state (so the check above can fail)
    assert checked.returncode != 0
    assert "DUPLICATE_STATE_NAMES" in checked.stdout + checked.stderr
    assert "Finalize" in checked.stdout + checked.stderr


def test_every_state_name_is_unique_across_all_scopes(spec: StateMachineSpec) -> None:
    # Given every state of the definition, in the machine and every Map or Parallel in it
    names = Counter(name for _, machine in _scopes(_definition(spec)) for name in machine["States"])
    # Then no name is used twice (Step Functions and CDK refuse the definition)
    assert [name for name, uses in names.items() if uses > 1] == []


def test_every_transition_names_a_state_of_its_scope(spec: StateMachineSpec) -> None:
    # Given every machine of the definition, nested ones included
    for path, machine in _scopes(_definition(spec)):
        states = machine["States"]
        # Then StartAt and every Next/Default name a state of the same machine
        assert machine["StartAt"] in states, f"{path}.StartAt"
        for name, state in states.items():
            for target in _transitions(state):
                assert target in states, f"{path}.{name} -> {target}"


def test_every_state_is_reachable_and_every_path_ends(spec: StateMachineSpec) -> None:
    # Given every machine of the definition, nested ones included
    for path, machine in _scopes(_definition(spec)):
        states = machine["States"]
        # When the states are followed from StartAt
        reached: set[str] = set()
        pending = [machine["StartAt"]]
        while pending:
            name = pending.pop()
            if name not in reached:
                reached.add(name)
                pending.extend(_transitions(states[name]))
        # Then every state is reached (Step Functions rejects unreachable ones)
        assert reached == states.keys(), f"{path}: unreachable {states.keys() - reached}"
        # And every state either moves on or ends the machine
        for name, state in states.items():
            ends = state["Type"] in {"Succeed", "Fail"} or state.get("End") is True
            moves_on = "Next" in state or state["Type"] == "Choice"
            assert ends != moves_on, f"{path}.{name} must either end or have a Next"


def test_every_placeholder_of_the_definition_has_a_substitution(spec: StateMachineSpec) -> None:
    # Given the `${Name}` placeholders of the definition file
    placeholders = set(PLACEHOLDER.findall(spec.definition_path.read_text()))
    # Then the description substitutes every one of them
    assert placeholders
    assert placeholders <= spec.substitutions.keys(), placeholders - spec.substitutions.keys()


def test_every_substitution_is_used_by_the_definition(spec: StateMachineSpec) -> None:
    # Given the `${Name}` placeholders of the definition file
    placeholders = set(PLACEHOLDER.findall(spec.definition_path.read_text()))
    # Then the description substitutes nothing the definition does not use (a renamed placeholder)
    assert spec.substitutions.keys() <= placeholders, spec.substitutions.keys() - placeholders


def test_every_invoked_function_is_the_one_the_machine_may_invoke(spec: StateMachineSpec) -> None:
    # Given the functions whose ARNs the definition receives
    substituted_functions = {
        value.name
        for value in spec.substitutions.values()
        if not isinstance(value, str) and value.kind == "function_arn"
    }
    # Then the state machine's role may invoke exactly those
    assert substituted_functions == set(spec.invokes)


def _lambda_tasks(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, scope in _scopes(machine):
        for name, state in scope["States"].items():
            if state["Type"] == "Task" and ":lambda:" in state["Resource"]:
                yield f"{path}.{name}", state


def _retrier_for(state: dict[str, Any], error: str) -> dict[str, Any] | None:
    """The first retrier that matches `error`, as Step Functions picks it."""
    wildcards = {"States.ALL", "States.TaskFailed"}
    return next(
        (
            r
            for r in state.get("Retry", [])
            if error in r["ErrorEquals"] or wildcards & set(r["ErrorEquals"])
        ),
        None,
    )


def test_every_lambda_task_retries_lambdas_transient_errors_and_waits_out_throttling() -> None:
    # Given every Lambda task of the import workflow, in the Maps' children too
    tasks = list(_lambda_tasks(_definition(DESCRIPTION.state_machines[0])))
    assert len(tasks) >= 10
    for path, state in tasks:
        # Then the errors Lambda itself may answer with are retried, a client timeout included
        for error in (
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.ClientExecutionTimeoutException",
        ):
            assert _retrier_for(state, error), f"{path} does not retry {error}"
        # And throttling is waited out: at least 6 attempts, backing off to a minute or more
        throttled = _retrier_for(state, "Lambda.TooManyRequestsException")
        assert throttled, f"{path} does not retry Lambda.TooManyRequestsException"
        waits = [
            throttled.get("IntervalSeconds", 1) * throttled.get("BackoffRate", 2.0) ** attempt
            for attempt in range(throttled.get("MaxAttempts", 3))
        ]
        assert len(waits) >= 6 and sum(waits) >= 60, f"{path} gives throttling {waits} s"


def _maps(machine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in machine["States"].items() if s["Type"] == "Map"}


def test_no_batch_failure_fails_a_map_run_or_the_import() -> None:
    # Given the Maps over the staged batches
    maps = _maps(_definition(DESCRIPTION.state_machines[0]))
    assert set(maps) == {"ImportBatches", "ImportRepeats", "SweepMissing"}
    for name, state in maps.items():
        # Then a failed child does not fail the Map run
        assert state["ToleratedFailurePercentage"] == 100, name
        # And a Map run that fails anyway goes on towards Finalize, never to FailJob
        [catcher] = state["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"]
        assert catcher["Next"] in {"HasRepeats", "Finalize"}, name
        # And inside, every task that can fail is caught, so a child always ends in success
        for state_name, child_state in state["ItemProcessor"]["States"].items():
            if child_state["Type"] == "Task":
                assert [c["ErrorEquals"] for c in child_state["Catch"]] == [["States.ALL"]], (
                    f"{name}.{state_name}"
                )


def test_the_maps_children_output_nothing() -> None:
    # Given the Maps over the staged batches, whose children's outputs the Map run collects
    for name, state in _maps(_definition(DESCRIPTION.state_machines[0])).items():
        processor = state["ItemProcessor"]
        # Then every state that ends a child outputs nothing (an empty object), so 10,000
        # batches stay far below the 256 KiB state payload limit
        for state_name, child_state in processor["States"].items():
            if child_state.get("End") or child_state["Type"] in {"Succeed", "Fail"}:
                assert "OutputPath" in child_state, f"{name}.{state_name}"
                assert child_state["OutputPath"] is None, f"{name}.{state_name}"
        # And the Map itself keeps none of it in the execution's state
        assert state["ResultPath"] is None
