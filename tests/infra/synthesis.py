"""In-process synthesis of the CDK app, with the context `cdk synth` reads from cdk.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# infra.app first: it quiets jsii's Node warnings before aws_cdk starts the Node process.
from infra.app import build_app  # isort: skip
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.description import REPO_ROOT
from infra.stack import LAYER_BUNDLING_CONTEXT_KEY, CustomerImportStack


@dataclass(frozen=True)
class Synthesized:
    stack: CustomerImportStack
    template: Template
    outdir: Path
    # Read once: every `Template.to_json()` is a round trip to the jsii Node process.
    resources: dict[str, dict[str, Any]]

    def shared_layer(self) -> tuple[str, dict[str, Any]]:
        """The functions' layer (the import page's deployment brings CDK's AWS CLI layer too)."""
        [(logical_id, layer)] = [
            (logical_id, layer)
            for logical_id, layer in self.of_type("AWS::Lambda::LayerVersion").items()
            if logical_id.startswith("FunctionsSharedLayer")
        ]
        return logical_id, layer

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }


def synthesize(
    outdir: Path, *, layer_bundling: str, context: dict[str, str] | None = None
) -> Synthesized:
    cdk_json_context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = App(
        outdir=str(outdir),
        context={
            **cdk_json_context,
            LAYER_BUNDLING_CONTEXT_KEY: layer_bundling,
            **(context or {}),
        },
    )
    stack = build_app(app)
    template = Template.from_stack(stack)
    return Synthesized(
        stack=stack,
        template=template,
        outdir=outdir,
        resources=template.to_json()["Resources"],
    )


def single(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The one resource of a filtered template section: (logical id, resource)."""
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))
