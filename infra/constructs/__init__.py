"""One construct per concern; `infra.stack` composes them and wires the grants between them."""
