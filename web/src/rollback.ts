// Rolling a completed import back (design §5.7): first the dry run (POST /imports/{id}/rollback
// {"dry_run": true}: what it would undo now, by kind, and the customers changed since, which it
// would leave as they are), then the rollback itself, once; when it has ended, what it undid and
// the conflict log (GET /imports/{id}/conflict-log).

import type { JobDetail, RollbackConflict, RollbackResult } from "./api";
import type { Context } from "./context";
import { count, h, replace, safeHttpUrl } from "./dom";
import { REVERTED } from "./labels";
import { countItem } from "./preview";

const ACTIONS: Record<string, string> = {
  created: "created it",
  updated: "updated it",
  merged: "merged into it",
  binned: "binned it",
  restored: "restored it",
  copied: "copied it",
  moved: "moved it",
};

/** The rollback's offer on a completed import: the dry run, then the rollback. */
export function rollbackSection(context: Context, job: JobDetail, onStarted: () => void): HTMLElement {
  const check = h("button", { type: "button" }, "Check what a rollback would undo");
  const findings = h("div", { class: "dry-run", "aria-live": "polite" });
  const problem = h("div", { role: "alert", class: "problem" });
  const run = h("button", { type: "button", class: "danger", hidden: true }, "Roll the import back");
  check.addEventListener("click", () => {
    check.disabled = true;
    replace(problem);
    replace(findings, h("p", null, "Reading the import's change log and the customers as they are now…"));
    context.api.rollback(job.job_id, true).then(
      (result) => {
        check.disabled = false;
        replace(check, "Check again");
        replace(findings, dryRun(result));
        run.hidden = false;
      },
      (error: unknown) => {
        check.disabled = false;
        replace(findings);
        replace(problem, error instanceof Error ? error.message : String(error));
      },
    );
  });
  run.addEventListener("click", () => {
    run.disabled = check.disabled = true;
    replace(problem);
    context.api.rollback(job.job_id, false).then(onStarted, (error: unknown) => {
      run.disabled = check.disabled = false;
      replace(problem, error instanceof Error ? error.message : String(error));
    });
  });
  return h(
    "section",
    { "aria-labelledby": "rollback-heading", class: "rollback" },
    h("h3", { id: "rollback-heading" }, "Roll this import back"),
    h(
      "p",
      null,
      "A rollback undoes what this import did, newest change first: it removes the customers it created and the copies it made, puts back the values it changed, takes what it binned out of the recycle bin and moves moved customers back. A customer changed since (by a person or a later import) is left as it is and reported. It can be done once; check first what it would do.",
    ),
    h("div", { class: "actions" }, check, run),
    problem,
    findings,
  );
}

function dryRun(result: RollbackResult): HTMLElement {
  const total = REVERTED.reduce((sum, [name]) => sum + (result.reverted[name] ?? 0), 0);
  return h(
    "div",
    null,
    h("h4", { id: "dry-run-heading" }, "What a rollback would do now"),
    h("p", null, total ? `It would undo ${count(total)} change${total === 1 ? "" : "s"} and leave ${count(result.conflicts)} as ${result.conflicts === 1 ? "it is" : "they are"}. Nothing has been written.` : "There is nothing left to undo. Nothing has been written."),
    h(
      "dl",
      { class: "counts", "aria-label": "The rollback would undo" },
      REVERTED.filter(([name]) => (result.reverted[name] ?? 0) > 0).map(([name, label]) => countItem(name, label, result.reverted[name])),
      countItem("conflicts", "Changed since: left as they are", result.conflicts),
    ),
    result.conflicts ? conflictsTable(result.conflict_list, result.conflicts) : null,
  );
}

function conflictsTable(conflicts: RollbackConflict[], total: number): HTMLElement {
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "conflicts-caption" },
    h(
      "table",
      { class: "conflicts" },
      h(
        "caption",
        { id: "conflicts-caption" },
        conflicts.length < total
          ? `The first ${count(conflicts.length)} of ${count(total)} customers changed since the import`
          : "Customers changed since the import, which the rollback would leave as they are",
      ),
      h(
        "thead",
        null,
        h("tr", null, ["Customer number", "Account", "The import", "The rollback would", "Since then"].map((label) => h("th", { scope: "col" }, label))),
      ),
      h(
        "tbody",
        null,
        conflicts.map((conflict) =>
          h(
            "tr",
            { "data-customer": conflict.customer_id },
            h("th", { scope: "row" }, conflict.external_customer_number ?? conflict.customer_id),
            h("td", null, conflict.account),
            h("td", null, ACTIONS[conflict.action] ?? conflict.action),
            h("td", null, conflict.would),
            h("td", null, conflict.since),
          ),
        ),
      ),
    ),
  );
}

/** What a rollback that ended undid, and its conflict log. */
export function rollbackResult(context: Context, job: JobDetail): HTMLElement {
  const counts = job.counts;
  const download = h("div", { class: "conflict-log" });
  const section = h(
    "section",
    { "aria-labelledby": "rolled-back-heading", class: "rolled-back" },
    h("h4", { id: "rolled-back-heading" }, "What the rollback undid"),
    h(
      "dl",
      { class: "counts", "aria-label": "Rollback summary" },
      REVERTED.filter(([name]) => (counts[`reverted_${name}`] ?? 0) > 0).map(([name, label]) => countItem(`reverted_${name}`, label, counts[`reverted_${name}`])),
      countItem("conflicts", "Changed since: left as they were", counts.conflicts),
    ),
    download,
  );
  if (!job.has_conflict_log) {
    replace(download, h("p", null, "Every change was undone: there is no conflict log."));
    return section;
  }
  replace(download, h("p", null, "Preparing the conflict log link…"));
  context.api.conflictLog(job.job_id).then(
    (link) => {
      const url = safeHttpUrl(link.url);
      replace(
        download,
        url
          ? [
              h("a", { href: url, download: `conflicts-${job.job_id}.csv`, class: "download" }, "Download the conflict log (CSV)"),
              h("p", { class: "hint" }, "Each customer left as it was, what the import had done, what the rollback would have done and what changed since; the link works for an hour."),
            ]
          : h("p", null, "Every change was undone: there is no conflict log."),
      );
    },
    (error: unknown) => replace(download, h("p", { role: "alert" }, error instanceof Error ? error.message : String(error))),
  );
  return section;
}
