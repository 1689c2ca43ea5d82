"""The import workflow: one module per step of the ImportJob state machine (design §3)."""
