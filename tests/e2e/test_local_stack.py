"""What the embedded stack does so that an import is measured warm: shared clients, handlers
imported at start (seam F and the warm-up in `customer_import_local.stack`)."""

from __future__ import annotations

import sys

from tests.unit.techman_files import customers, techman_csv


def test_every_handler_is_imported_when_the_stack_starts(stack) -> None:
    # Given a started stack (before any event reached a function)
    from infra.description import DESCRIPTION

    # Then every handler module is loaded, as a warm Lambda container's would be
    modules = {spec.handler.rsplit(".", 1)[0] for spec in DESCRIPTION.functions}
    assert modules <= set(sys.modules)


def test_step_functions_builds_its_lambda_client_once(driver, org) -> None:
    # Given an import whose Map ran several Lambda tasks
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    job = driver.run(org, techman_csv(customers(250)))
    assert job.status == "completed"
    # When moto's interpreter asks for a Lambda client again
    first = lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda")
    again = lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda")
    # Then it gets the one it was given before, not a new one per task
    assert first is again
