"""The CDK app: `cdk synth` runs `python -m infra.app` from the repository root (see cdk.json)."""

import os

# jsii reads these when its Node process starts, which importing aws_cdk does. Without them every
# synth prints a banner that this machine's Node (20) is past jsii's support.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App

from infra import nag
from infra.description import STACK_NAME
from infra.stack import CustomerImportStack

STACK_DESCRIPTION = (
    "Customer import: S3 uploads start Step Functions import jobs that write customers to "
    "DynamoDB and push progress over a WebSocket API"
)


def build_app(app: App) -> CustomerImportStack:
    """Adds the stack to `app`. Environment-agnostic: no account or region lookups."""
    return CustomerImportStack(app, STACK_NAME, description=STACK_DESCRIPTION)


def main() -> None:
    app = App()
    nag.check_on_synthesis(app, build_app(app))
    app.synth()


if __name__ == "__main__":
    main()
