"""Construct ids derived from the snake_case names of `infra.description`."""


def pascal_case(snake_case: str) -> str:
    """`customer_addresses` -> `CustomerAddresses`: the style of CloudFormation logical ids."""
    return "".join(part.title() for part in snake_case.split("_"))
