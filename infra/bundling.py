"""The shared Lambda layer, built without Docker.

CDK's local bundling copies the domain package and installs the pinned runtime dependencies
with uv, as manylinux wheels for the Lambda runtime (whatever the build machine is). The
Docker image in the bundling options is never pulled: CDK only falls back to it when local
bundling declines, and `LocalLayerBundler` never declines (it raises instead).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from functools import cached_property
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.description import REPO_ROOT

LAYER_SOURCE_DIR = REPO_ROOT / "layers" / "common"
DOMAIN_PACKAGE_DIR = LAYER_SOURCE_DIR / "python" / "customer_import"
UV = REPO_ROOT / ".tools" / "bin" / "uv"

LAMBDA_PYTHON_VERSION = "3.12"
# The python3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there,
# and some packages (rapidfuzz) ship no older ones.
LAMBDA_PLATFORM = "x86_64-manylinux_2_28"
# What the Lambda Python runtime already ships. urllib3 is only in the lock for botocore, so it
# goes with it: a second copy in the layer would shadow the one the runtime's botocore expects.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
NOT_DEPLOYED = ("__pycache__", "*.pyc")


def shared_layer_code(*, bundle_dependencies: bool) -> lambda_.Code:
    """The layer asset: the domain package plus its dependencies, or the bare source.

    Without dependencies the asset is just `layers/common` (already laid out as `python/...`):
    enough for template tests and a fast synth, not for a deployment.
    """
    if not bundle_dependencies:
        return lambda_.Code.from_asset(str(LAYER_SOURCE_DIR), exclude=list(NOT_DEPLOYED))
    bundler = LocalLayerBundler()
    return lambda_.Code.from_asset(
        str(LAYER_SOURCE_DIR),
        # CDK skips bundling when `cdk.out/asset.<hash>` exists. A hash of the source alone
        # would miss dependency upgrades in uv.lock, so the hash covers both.
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=bundler.fingerprint,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
            local=bundler,  # type: ignore[arg-type]  # see LocalLayerBundler.try_bundle
        ),
    )


@jsii.implements(ILocalBundling)
class LocalLayerBundler:
    """Builds `python/` = the domain package + the locked runtime dependencies for Lambda."""

    def __init__(self, package_dir: Path = DOMAIN_PACKAGE_DIR) -> None:
        self.package_dir = package_dir

    @cached_property
    def requirements(self) -> str:
        """The locked runtime dependencies (no dev group, no `local` extra), minus the runtime's."""
        exported = _run_uv(
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
        )
        return "".join(
            f"{line}\n"
            for line in exported.splitlines()
            if line.strip() and _requirement_name(line) not in PROVIDED_BY_RUNTIME
        )

    @cached_property
    def fingerprint(self) -> str:
        """Changes with the domain package's files, the requirements and the target platform."""
        digest = hashlib.sha256()
        digest.update(f"{LAMBDA_PLATFORM} {LAMBDA_PYTHON_VERSION}\n".encode())
        digest.update(self.requirements.encode())
        for path in sorted(self.package_dir.rglob("*")):
            if path.is_file() and not _is_bytecode(path):
                digest.update(path.relative_to(self.package_dir).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    # jsii calls an implementation with the options as one positional BundlingOptions, not as
    # the keyword arguments of the generated ILocalBundling stub.
    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        site_packages = Path(output_dir) / "python"
        shutil.copytree(
            self.package_dir,
            site_packages / self.package_dir.name,
            ignore=shutil.ignore_patterns(*NOT_DEPLOYED),
        )
        with tempfile.TemporaryDirectory() as scratch:
            requirements_file = Path(scratch) / "requirements.txt"
            requirements_file.write_text(self.requirements)
            _run_uv(
                "pip",
                "install",
                "--target",
                str(site_packages),
                "--python-platform",
                LAMBDA_PLATFORM,
                "--python-version",
                LAMBDA_PYTHON_VERSION,
                "--only-binary",
                ":all:",
                # The export is already the whole closure: resolving again would bring back
                # botocore and friends as dependencies of pynamodb and aws-xray-sdk.
                "--no-deps",
                "--requirement",
                str(requirements_file),
            )
        return True


def _run_uv(*arguments: str) -> str:
    if not UV.exists():
        raise FileNotFoundError(f"{UV} is missing: run `make setup` first")
    completed = subprocess.run(  # noqa: S603 (fixed executable, arguments from this module)
        [str(UV), *arguments], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"uv {' '.join(arguments)} failed:\n{completed.stderr}")
    return completed.stdout


def _requirement_name(requirement_line: str) -> str:
    """`botocore==1.44.5 ; python_version >= '3.9'` -> `botocore`."""
    name = requirement_line.split(";")[0].split("==")[0].strip()
    return name.lower().replace("_", "-")


def _is_bytecode(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix == ".pyc"
