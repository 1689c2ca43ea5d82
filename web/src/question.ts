// The question a job may ask before it can read its file: a profile that detects the date
// order, on a file none of whose dates tells it (every part 12 or less). The job waits at
// `ready` with `preview.question`; the answer (POST /imports/{id}/decision {"date_order"})
// reads the file again that way, and the job comes back with its preview, or runs on.

import type { DateExample, JobDetail, JobSummary, Question } from "./api";
import type { Context } from "./context";
import { count, h, replace, uid } from "./dom";
import { DATE_ORDERS } from "./labels";

export function dateQuestion(
  context: Context,
  job: JobDetail,
  question: Question,
  onChange: (next: JobSummary) => void,
): HTMLElement {
  const answer = h("div", { role: "alert", class: "problem" });
  const choices = question.choices.filter((choice) => choice in DATE_ORDERS);
  const radios = choices.map((choice) => {
    const id = uid("date-order");
    const hint = uid("date-order-hint");
    const words = DATE_ORDERS[choice] ?? { label: choice, hint: "" };
    return h(
      "div",
      { class: "check" },
      h("input", { type: "radio", name: "date_order", id, value: choice, "aria-describedby": hint }),
      h("label", { for: id }, words.label),
      h("span", { id: hint, class: "hint" }, words.hint),
    );
  });
  const send = h("button", { type: "submit", class: "primary" }, "Answer and read the file again");
  const cancel = h("button", { type: "button" }, "Cancel this import");
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "question-heading" },
    h("fieldset", null, h("legend", null, "The file writes its dates"), radios),
    answer,
    h("div", { class: "actions" }, send, cancel),
  );
  const busy = (yes: boolean): void => {
    send.disabled = cancel.disabled = yes;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = form.querySelector<HTMLInputElement>("input[name=date_order]:checked")?.value;
    if (chosen !== "day_first" && chosen !== "month_first") {
      replace(answer, "Choose how the file writes its dates first.");
      form.querySelector<HTMLInputElement>("input[name=date_order]")?.focus();
      return;
    }
    busy(true);
    replace(answer);
    context.api.decide(job.job_id, { date_order: chosen }).then(onChange, (error: unknown) => {
      busy(false);
      replace(answer, error instanceof Error ? error.message : String(error));
    });
  });
  cancel.addEventListener("click", () => {
    busy(true);
    context.api.cancel(job.job_id).then(onChange, (error: unknown) => {
      busy(false);
      replace(answer, error instanceof Error ? error.message : String(error));
    });
  });
  const rows = job.preview?.counts.rows;
  return h(
    "section",
    { "aria-labelledby": "question-heading", class: "question" },
    h("h3", { id: "question-heading", tabindex: "-1" }, "How does the file write its dates?"),
    h("p", null, question.text),
    h(
      "p",
      null,
      `Nothing has been read into customers yet${rows ? ` (the file has ${count(rows)} rows)` : ""}. Your answer reads the whole file again that way; then the import goes on as its profile says.`,
    ),
    examplesTable(question.examples),
    form,
  );
}

function examplesTable(examples: DateExample[]): HTMLElement | null {
  if (!examples.length) return null;
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "examples-caption" },
    h(
      "table",
      { class: "examples" },
      h("caption", { id: "examples-caption" }, "Some of the file's dates, read both ways"),
      h(
        "thead",
        null,
        h("tr", null, ["Row", "Column", "As written", "Read day first", "Read month first"].map((label, index) => h("th", { scope: "col", class: index === 0 ? "number" : null }, label))),
      ),
      h(
        "tbody",
        null,
        examples.map((example) =>
          h(
            "tr",
            null,
            h("td", { class: "number" }, String(example.row)),
            h("td", null, example.column),
            h("th", { scope: "row" }, example.value),
            h("td", null, dayText(example.day_first)),
            h("td", null, dayText(example.month_first)),
          ),
        ),
      ),
    ),
  );
}

/** An ISO day as people read it ("3 April 2021"), the calendar day itself (no time zone). */
function dayText(iso: string | null): string {
  const match = iso ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso) : null;
  if (!match) return iso ?? "(not a date)";
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return day.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}
