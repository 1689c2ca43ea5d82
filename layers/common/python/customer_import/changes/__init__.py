"""Changes: what an import plans to do to each customer, the change log it keeps of what it
did (with before-images and versions), and (later) rollback over that log."""
