// The words the page uses for the API's states and counters.

import type { Profile } from "./api";

/** Which files a profile reads, in words (a Techman export is a CSV file unless said). */
export function profileSource(profile: Pick<Profile, "source" | "format">): string {
  const format = profile.format ?? "csv";
  return profile.source === "mapped" || format !== "csv" ? `${sourceName(profile)}, ${format}` : sourceName(profile);
}

/** A profile's source alone, in words. */
export function sourceName(profile: Pick<Profile, "source">): string {
  return profile.source === "mapped" ? "a file with its own columns (mapped)" : "Techman customer export";
}

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
    hint: "Match each customer of the file to a stored one of the account: update it; create the others.",
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

export const KEY_CHOICES: { value: "external" | "internal" | "both"; label: string; hint: string }[] = [
  { value: "external", label: "Customer number", hint: "the file's customer number (the external id)" },
  { value: "internal", label: "Our customer id", hint: "a CustomerId column holding the id this product gave the customer" },
  { value: "both", label: "Customer id, then customer number", hint: "the id where the file has one, else the number" },
];

export const FIELD_POLICIES: { value: "overwrite" | "keep" | "fill_empty"; label: string }[] = [
  { value: "overwrite", label: "Overwrite: the file's values replace the stored ones" },
  { value: "fill_empty", label: "Fill empty: only empty stored fields take the file's value" },
  { value: "keep", label: "Keep: matched customers stay as they are (the others are created)" },
];

export const TRANSFERS: { value: "none" | "copy" | "move"; label: string; hint: string }[] = [
  { value: "none", label: "No transfer", hint: "a customer the account lacks is created anew" },
  { value: "copy", label: "Copy", hint: "a customer another account holds is copied into this one (a new customer; the other keeps its own)" },
  { value: "move", label: "Move", hint: "a customer another account holds (its recycle bin too) moves into this one, the same customer" },
];

/** What an update or a sync will do to a customer (the preview's `planned.action`). */
export const PLANNED: Record<string, string> = {
  create: "Create",
  update: "Update",
  merge: "Merge",
  unchanged: "Unchanged",
  restore: "Restore from the recycle bin",
  copy: "Copy",
  move: "Move",
};

/** How a profile reads a file's numeric dates, in words. */
export const DATE_WORDS: Record<string, string> = {
  day_first: "day first",
  month_first: "month first",
  iso: "ISO (YYYY-MM-DD)",
  detect: "told by the file's own dates (you are asked when none does)",
};

export const DATE_ORDERS: Record<string, { label: string; hint: string }> = {
  day_first: { label: "Day first", hint: "03.04.2021 is 3 April 2021" },
  month_first: { label: "Month first", hint: "03.04.2021 is 4 March 2021" },
};

/** What a rollback undoes, by what the import had done (the dry run's and the job's counts). */
export const REVERTED: [string, string][] = [
  ["created", "Created customers removed"],
  ["updated", "Updated customers put back"],
  ["merged", "Merged customers put back"],
  ["deleted", "Binned customers taken out of the bin"],
  ["restored", "Restored customers put back in the bin"],
  ["copied", "Copies removed"],
  ["moved", "Moved customers moved back"],
];

/** The audit log's actions, in words; others are shown as the API names them. */
export const AUDIT_ACTIONS: Record<string, string> = {
  "import.created": "Import started",
  "import.decided": "Import decided",
  "import.answered": "Date order answered",
  "import.cancelled": "Import cancelled",
  "import.rejected": "File rejected",
  "import.completed": "Import completed",
  "import.completed_with_errors": "Import completed with errors",
  "import.failed": "Import failed",
  "import.expired": "Import expired",
  "import.rollback-requested": "Rollback requested",
  "import.rolled_back": "Import rolled back",
  "import.rolled_back_with_conflicts": "Import rolled back with conflicts",
  "customer.restored": "Customer restored from the recycle bin",
  "customer.edited": "Customer edited",
  "profile.saved": "Import profile saved",
  "profile.deleted": "Import profile deleted",
  "settings.changed": "Settings changed",
};

export function auditAction(action: string): string {
  const retry = /^import\.retry-(\d+)(?:\.(.+))?$/.exec(action);
  if (retry) {
    const [, attempt, ended] = retry;
    return ended ? `Retry ${attempt}: ${(AUDIT_ACTIONS[`import.${ended}`] ?? ended).toLowerCase()}` : `Retry ${attempt} started`;
  }
  return AUDIT_ACTIONS[action] ?? action;
}
