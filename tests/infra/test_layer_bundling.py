"""The shared layer, bundled for real: the domain package plus Lambda-ready dependencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.bundling import PROVIDED_BY_RUNTIME, LocalLayerBundler
from tests.infra.synthesis import synthesize


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Given the app with the layer bundled locally (uv, no Docker)
    outdir = tmp_path_factory.mktemp("cdk.out")
    # When it is synthesised
    synthesized = synthesize(outdir, layer_bundling="local")
    # Then the layer's asset is staged next to the template
    _, layer = synthesized.shared_layer()
    asset_key = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_key}"


def test_layer_holds_the_domain_package_without_bytecode(layer_dir: Path) -> None:
    # Then the domain package sits where Lambda looks for layer packages
    package = layer_dir / "python" / "customer_import"
    assert (package / "__init__.py").is_file()
    # And no bytecode of the build machine's Python came along
    assert not list(package.rglob("__pycache__"))


def test_layer_holds_the_runtime_dependencies_built_for_lambda(layer_dir: Path) -> None:
    site_packages = layer_dir / "python"
    # Then the locked runtime dependencies are installed
    for package in ("aws_lambda_powertools", "pynamodb", "phonenumbers", "dateutil", "pydantic"):
        assert (site_packages / package).is_dir(), package
    # And compiled ones are the Lambda runtime's build, whatever this machine is
    (pydantic_core_binary,) = (site_packages / "pydantic_core").glob("_pydantic_core*.so")
    assert "cpython-312-x86_64-linux-gnu" in pydantic_core_binary.name


def test_layer_leaves_out_what_the_runtime_has_and_local_only_tools(layer_dir: Path) -> None:
    site_packages = layer_dir / "python"
    # Then neither the AWS SDK (the runtime ships it) nor the local stack's tools are in the layer
    for package in (*PROVIDED_BY_RUNTIME, "moto", "click", "rich", "websockets", "aws_cdk"):
        assert not (site_packages / package).exists(), package


def test_layer_requirements_are_the_locked_runtime_dependencies() -> None:
    # Given the requirements the bundler installs
    requirements = LocalLayerBundler().requirements.splitlines()
    names = {line.split("==")[0].lower() for line in requirements}
    # Then they are pinned, and are the runtime group minus what the Lambda runtime provides
    assert all("==" in line for line in requirements)
    assert {"aws-lambda-powertools", "pynamodb", "phonenumbers", "python-dateutil"} <= names
    assert not names & PROVIDED_BY_RUNTIME
    assert "moto" not in names


def test_layer_fingerprint_follows_sources_and_requirements_not_bytecode(tmp_path: Path) -> None:
    # Given a package and the fingerprint of its bundle
    package = tmp_path / "customer_import"
    package.mkdir()
    (package / "__init__.py").write_text("VERSION = 1\n")

    def fingerprint(requirements: str = "pynamodb==6.1.0\n") -> str:
        bundler = LocalLayerBundler(package)
        bundler.requirements = requirements  # a cached property: no uv call needed
        return bundler.fingerprint

    original = fingerprint()
    # When bytecode appears, then the fingerprint (and so the cached bundle) stays
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"\0")
    assert fingerprint() == original
    # When the locked dependencies change, then the bundle is rebuilt
    assert fingerprint("pynamodb==6.2.0\n") != original
    # When a source file changes, then the bundle is rebuilt
    (package / "__init__.py").write_text("VERSION = 2\n")
    assert fingerprint() != original
