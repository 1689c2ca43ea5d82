"""The ASL files themselves: valid JSON, every transition lands, every placeholder is substituted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.description import DESCRIPTION, StateMachineSpec

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _definition(spec: StateMachineSpec) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(spec.definition_path.read_text())
    return definition


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
