// The words the page uses for the API's states and counters.

export const STATUS: Record<string, string> = {
  pending: "Waiting for the file",
  validating: "Checking the file's columns",
  rejected: "Rejected",
  preparing: "Reading and cleaning every row",
  ready: "Ready for your review",
  importing: "Importing",
  completed: "Completed",
  completed_with_errors: "Completed with errors",
  failed: "Failed",
  cancelled: "Cancelled",
  expired: "Expired (no decision in time)",
  rolling_back: "Rolling back",
  rolled_back: "Rolled back",
  rolled_back_with_conflicts: "Rolled back with conflicts",
};

export function statusLabel(status: string): string {
  return STATUS[status] ?? status;
}

export const PREVIEW_COUNTS: [string, string][] = [
  ["rows", "Rows"],
  ["customers", "Customers"],
  ["vehicles", "Vehicles"],
  ["rows_with_warnings", "Rows with warnings"],
  ["rows_failing", "Rows with errors"],
  ["customers_failing", "Customers that will fail"],
  ["duplicates", "Possible duplicates"],
  ["imported", "To import"],
  ["created", "To create"],
  ["updated", "To update"],
  ["unchanged", "Unchanged"],
  ["merged", "To merge"],
  ["restored", "To restore from the recycle bin"],
  ["deleted", "To bin"],
  ["copied", "To copy from other accounts"],
  ["moved", "To move from other accounts"],
];

export const SUMMARY_COUNTS: [string, string, boolean][] = [
  // [counter, label, shown when zero]
  ["customers", "Customers in the file", true],
  ["imported", "Imported", true],
  ["created", "Created", false],
  ["updated", "Updated", false],
  ["merged", "Merged into stored customers", false],
  ["unchanged", "Unchanged", false],
  ["deleted", "Binned", false],
  ["restored", "Restored from the recycle bin", false],
  ["copied", "Copied from other accounts", false],
  ["moved", "Moved from other accounts", false],
  ["skipped_duplicates", "Skipped (duplicates)", false],
  ["skipped_user", "Skipped (your choice)", false],
  ["failed", "Failed", true],
  ["vehicles", "Vehicles", false],
];

export const MODES: { value: "insert" | "update" | "sync"; label: string; hint: string }[] = [
  {
    value: "insert",
    label: "Insert",
    hint: "New customers; you decide what happens to possible duplicates.",
  },
  {
    value: "update",
    label: "Update",
    hint: "Match by customer number: update the stored customers, create the others.",
  },
  {
    value: "sync",
    label: "Sync",
    hint: "Update, then move the account's customers the file no longer has into the recycle bin.",
  },
];

export const CHOICES: { value: "skip" | "merge" | "create"; label: string; hint: string }[] = [
  { value: "skip", label: "Skip", hint: "import nothing for this customer" },
  { value: "merge", label: "Merge", hint: "fill the stored customer's gaps and add vehicles" },
  { value: "create", label: "Create", hint: "import as a new customer" },
];

export const KEYS: Record<string, string> = {
  external: "customer number",
  email: "email",
  phone: "phone",
  name: "name",
};
