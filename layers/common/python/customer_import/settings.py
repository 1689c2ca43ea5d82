"""Configuration, read once per invocation from the environment into a typed object.

In the cloud every function gets the same environment from the stack description; in the
embedded local stack all functions share one process, so they must share one configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_FILE_BYTES = 30 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
DEFAULT_DECISION_TIMEOUT_SECONDS = 7 * 24 * 3600
BATCH_SIZE = 100


@dataclass(frozen=True)
class Settings:
    jobs_table: str
    job_batches_table: str
    organisations_table: str
    audit_log_table: str
    customers_table: str
    customer_match_keys_table: str
    customer_addresses_table: str
    vehicles_table: str
    connections_table: str
    upload_bucket: str
    websocket_management_endpoint: str
    import_state_machine_arn: str
    region: str
    customer_identities_table: str = "customer_identities"
    customer_activities_table: str = "customer_activities"
    import_profiles_table: str = "import_profiles"
    rollback_state_machine_arn: str = ""
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    decision_timeout_seconds: int = DEFAULT_DECISION_TIMEOUT_SECONDS
    batch_size: int = BATCH_SIZE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [
            name
            for name in (
                "JOBS_TABLE",
                "JOB_BATCHES_TABLE",
                "ORGANISATIONS_TABLE",
                "AUDIT_LOG_TABLE",
                "CUSTOMERS_TABLE",
                "CUSTOMER_MATCH_KEYS_TABLE",
                "CUSTOMER_ADDRESSES_TABLE",
                "VEHICLES_TABLE",
                "CONNECTIONS_TABLE",
                "CUSTOMER_IDENTITIES_TABLE",
                "CUSTOMER_ACTIVITIES_TABLE",
                "IMPORT_PROFILES_TABLE",
                "UPLOAD_BUCKET",
            )
            if not env.get(name)
        ]
        if missing:
            raise RuntimeError(f"Missing configuration: {', '.join(missing)}")
        return cls(
            jobs_table=env["JOBS_TABLE"],
            job_batches_table=env["JOB_BATCHES_TABLE"],
            organisations_table=env["ORGANISATIONS_TABLE"],
            audit_log_table=env["AUDIT_LOG_TABLE"],
            customers_table=env["CUSTOMERS_TABLE"],
            customer_match_keys_table=env["CUSTOMER_MATCH_KEYS_TABLE"],
            customer_addresses_table=env["CUSTOMER_ADDRESSES_TABLE"],
            vehicles_table=env["VEHICLES_TABLE"],
            connections_table=env["CONNECTIONS_TABLE"],
            customer_identities_table=env["CUSTOMER_IDENTITIES_TABLE"],
            customer_activities_table=env["CUSTOMER_ACTIVITIES_TABLE"],
            import_profiles_table=env["IMPORT_PROFILES_TABLE"],
            upload_bucket=env["UPLOAD_BUCKET"],
            websocket_management_endpoint=env.get("WEBSOCKET_MANAGEMENT_ENDPOINT", ""),
            import_state_machine_arn=env.get("IMPORT_STATE_MACHINE_ARN", ""),
            rollback_state_machine_arn=env.get("ROLLBACK_STATE_MACHINE_ARN", ""),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-2",
            max_file_bytes=int(env.get("MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES)),
            max_rows=int(env.get("MAX_ROWS", DEFAULT_MAX_ROWS)),
            decision_timeout_seconds=int(
                env.get("DECISION_TIMEOUT_SECONDS", DEFAULT_DECISION_TIMEOUT_SECONDS)
            ),
        )
