"""cfn-lint finds no error in the synthesised template (what CloudFormation would refuse)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.infra.synthesis import synthesize

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
# cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 a crash.
ERRORS, CRASHED = 2, 1


def test_cfn_lint_finds_no_error_in_the_template(tmp_path: Path) -> None:
    # Given the synthesised template, with a web app's origins (their CORS and OAuth settings)
    synthesized = synthesize(
        tmp_path / "cdk.out",
        layer_bundling="skip",
        context={"webAppOrigins": "https://app.example.com"},
    )
    # When cfn-lint checks it against CloudFormation's resource specifications
    # Then it ran, and reports no error (warnings, such as CDK's explicit DependsOn, are not)
    assert cfn_lint_errors(synthesized.template.to_json(), tmp_path) == []


def cfn_lint_errors(template: dict[str, object], tmp_path: Path) -> list[str]:
    """cfn-lint's errors on a template (it must not crash; warnings are not errors)."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    linted = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert not linted.returncode & CRASHED, linted.stderr
    findings = json.loads(linted.stdout)
    errors = [f"{f['Rule']['Id']} {f['Message']}" for f in findings if f["Level"] == "Error"]
    assert bool(errors) == bool(linted.returncode & ERRORS), linted.stderr
    return errors
