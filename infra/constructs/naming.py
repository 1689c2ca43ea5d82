"""Construct ids derived from the snake_case names of `infra.description`."""


def pascal_case(snake_case: str) -> str:
    """`customer_addresses` -> `CustomerAddresses`: the style of CloudFormation logical ids."""
    return "".join(part.title() for part in snake_case.split("_"))


def state_machine_name(stack_name: str, spec_name: str) -> str:
    """A fixed physical name, so functions can know the machine's ARN without referencing it
    (the machine references the functions; the reverse would be a cycle)."""
    return f"{stack_name}-{spec_name}"
