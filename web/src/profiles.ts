// The organisation's import profiles (GET /profiles, capability settings.import.manage), and
// one profile's settings changed in a form and saved whole (PUT /profiles/{name}) or the
// profile deleted (DELETE). How its files are read can be changed too: a mapped file's columns
// and date order, the phone region, the file's words for yes and no, whether they come as text
// or as workbooks (and which sheet), and how long a person has to decide. Its source stays what
// the profile was made with (a Techman profile has no columns to map).

import { ApiError, type Profile } from "./api";
import { focusHeading, type Context, type Screen } from "./context";
import { h, replace, uid } from "./dom";
import { CHOICES, DATE_WORDS, FIELD_POLICIES, KEY_CHOICES, MODES, profileSource, sourceName, TRANSFERS } from "./labels";
import { screenLinks, withoutCapability } from "./nav";
import { can, CUSTOMERS_TRANSFER, IMPORT_MANAGE } from "./session";

const ACCOUNT = /^[A-Za-z0-9._-]{1,64}$/;
const FORMATS = [
  { value: "csv", label: "Text files (CSV, comma- or semicolon-separated)" },
  { value: "xlsx", label: "Excel workbooks (xlsx)" },
];
const REVIEWS = [
  { value: "hold", label: "Waits at the preview for a person" },
  { value: "auto", label: "Runs without waiting (unless the file asks a question)" },
];

/** The list of profiles (`name` null), or one profile's settings. */
export class ProfilesScreen implements Screen {
  readonly element: HTMLElement;
  private readonly heading = h("h2", { id: "profiles-heading", tabindex: "-1" }, "Import profiles");
  private readonly status = h("p", { role: "status" });
  private readonly problem = h("div", { role: "alert", class: "problem" });
  private readonly content = h("div");
  private disposed = false;

  constructor(
    private readonly context: Context,
    name: string | null,
  ) {
    document.title = `${name ? `Profile ${name}` : "Import profiles"} · Import data`;
    const title = h("h1", null, "Import data");
    if (!can(context.session, IMPORT_MANAGE)) {
      this.element = withoutCapability(context, "profiles", title, IMPORT_MANAGE, "cannot see or change the import profiles.");
      return;
    }
    this.element = h(
      "div",
      null,
      title,
      screenLinks(context, "profiles"),
      h("section", { "aria-labelledby": "profiles-heading" }, this.heading, this.problem, this.status, this.content),
    );
    if (name) replace(this.heading, `Profile ${name}`);
    void (name ? this.loadOne(name) : this.loadAll()).then(() => focusHeading(this.heading));
  }

  dispose(): void {
    this.disposed = true;
  }

  private async loadAll(): Promise<void> {
    replace(this.status, "Loading the import profiles…");
    try {
      const { items } = await this.context.api.profiles();
      if (this.disposed) return;
      if (items.length === 0) {
        replace(this.status, "The organisation has no import profile yet: keep a completed import's settings from its page (Save as a profile).");
        return;
      }
      replace(this.status);
      replace(
        this.content,
        h(
          "table",
          null,
          h("caption", null, "The organisation's import profiles, by name"),
          h("thead", null, h("tr", null, ["Profile", "Source", "Account", "Mode", "Review"].map((label) => h("th", { scope: "col" }, label)))),
          h(
            "tbody",
            null,
            items.map((profile) =>
              h(
                "tr",
                null,
                h("th", { scope: "row" }, h("a", { href: `#/profiles/${profile.name}` }, profile.name)),
                h("td", null, profileSource(profile)),
                h("td", null, profile.account),
                h("td", null, profile.mode),
                h("td", null, profile.review === "auto" ? "runs without waiting" : "waits for a person"),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(this.status);
      replace(this.problem, error instanceof Error ? error.message : String(error));
    }
  }

  private async loadOne(name: string): Promise<void> {
    replace(this.status, `Loading profile ${name}…`);
    try {
      const profile = await this.context.api.profile(name);
      // A mapped profile's columns are chosen among the canonical ones, which the list names.
      const canonical = profile.source === "mapped" ? (await this.context.api.profiles()).canonical_columns : [];
      if (this.disposed) return;
      replace(this.status);
      replace(this.content, this.form(profile, canonical));
    } catch (error) {
      replace(this.status);
      replace(
        this.problem,
        error instanceof ApiError && error.status === 404 ? `The organisation has no import profile named ${name}.` : error instanceof Error ? error.message : String(error),
        " ",
        h("a", { href: "#/profiles" }, "All import profiles"),
      );
    }
  }

  private form(profile: Profile, canonical: string[]): HTMLElement {
    // Whoever sets a profile to transfer customers could transfer them themselves (403).
    const mayTransfer = can(this.context.session, CUSTOMERS_TRANSFER);
    const account = field("Account", h("input", { name: "account", value: profile.account, required: true, autocomplete: "off" }), "The user account its customers go into.");
    const mode = field("Mode", select("mode", MODES, profile.mode));
    const key = field("Match customers by", select("key", KEY_CHOICES, profile.key), "In update and sync modes.");
    const policy = field("What the file's values do to a stored customer", select("field_policy", FIELD_POLICIES, profile.field_policy), "In update and sync modes.");
    const duplicates = field("A possible duplicate", select("on_duplicate", CHOICES, profile.on_duplicate), "What an insert does with a customer that repeats a stored one, unless a person decides otherwise.");
    const review = field("Review", select("review", REVIEWS, profile.review));
    const maxDelete = field(
      "Bin at most this share of the account without asking (%)",
      h("input", { name: "max_delete_percent", type: "number", min: "0", max: "100", step: "any", inputmode: "decimal", value: String(profile.max_delete_percent) }),
      "A sync that would bin more waits for a person to confirm the deletions.",
    );
    const reading = new FileReading(profile, canonical);
    const transfer = mayTransfer ? field("Transfer between accounts", select("transfer", TRANSFERS, profile.transfer), "In update and sync modes.") : null;
    const relatedId = uid("related");
    const related = h("input", { type: "checkbox", id: relatedId, name: "transfer_related", checked: profile.transfer_related });
    const save = h("button", { type: "submit", disabled: profile.transfer !== "none" && !mayTransfer }, `Save profile ${profile.name}`);
    const remove = h("button", { type: "button", class: "secondary" }, `Delete profile ${profile.name}`);
    const result = h("p", { role: "status" });
    const form = h(
      "form",
      { class: "profile-editor", novalidate: true, "aria-label": `The settings of profile ${profile.name}` },
      account.element,
      mode.element,
      key.element,
      policy.element,
      transfer
        ? transfer.element
        : h(
            "p",
            { class: "hint" },
            profile.transfer === "none"
              ? "Transfer between accounts: none (choosing one takes the customers.transfer capability)."
              : `Transfer between accounts: ${profile.transfer}. Saving a profile that transfers customers takes the customers.transfer capability, which your sign-in does not carry.`,
          ),
      transfer ? h("div", { class: "check" }, related, h("label", { for: relatedId }, "With related records")) : null,
      maxDelete.element,
      duplicates.element,
      review.element,
      reading.element,
      h("div", { class: "actions" }, save, remove),
      result,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      replace(this.problem);
      const chosenAccount = account.control.value.trim();
      if (!ACCOUNT.test(chosenAccount)) {
        replace(this.problem, "The account is 1 to 64 letters, digits, dots, dashes or underscores.");
        account.control.focus();
        return;
      }
      const percent = Number(maxDelete.control.value);
      if (maxDelete.control.value.trim() === "" || !Number.isFinite(percent) || percent < 0 || percent > 100) {
        replace(this.problem, "The share of the account a sync may bin without asking is a number from 0 to 100.");
        maxDelete.control.focus();
        return;
      }
      const read = reading.read();
      if (!read.ok) {
        replace(this.problem, read.problem);
        read.control.focus();
        return;
      }
      const { name, ...document } = profile;
      const transferred = transfer ? transfer.control.value : profile.transfer;
      const changed = {
        ...document,
        account: chosenAccount,
        mode: mode.control.value,
        key: key.control.value,
        field_policy: policy.control.value,
        transfer: transferred,
        transfer_related: transferred !== "none" && (transfer ? related.checked : profile.transfer_related),
        on_duplicate: duplicates.control.value,
        review: review.control.value,
        max_delete_percent: percent,
        ...read.document,
      };
      save.disabled = true;
      this.context.api.putProfile(name, changed).then(
        (saved) => {
          save.disabled = false;
          replace(result, `Saved profile ${saved.name}: account ${saved.account}, ${saved.mode}, ${saved.review === "auto" ? "runs without waiting" : "waits for a person"}.`);
        },
        (error: unknown) => {
          save.disabled = false;
          replace(this.problem, `Profile ${name} was not saved: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    });
    let confirming = false; // the second click deletes
    remove.addEventListener("click", () => {
      replace(this.problem);
      if (!confirming) {
        confirming = true;
        replace(remove, `Delete profile ${profile.name} for good`);
        replace(result, `Deleting profile ${profile.name} cannot be undone; the imports that ran with it keep its name.`);
        return;
      }
      remove.disabled = true;
      this.context.api.deleteProfile(profile.name).then(
        () => {
          location.hash = "#/profiles";
        },
        (error: unknown) => {
          remove.disabled = false;
          replace(this.problem, `Profile ${profile.name} was not deleted: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    });
    return form;
  }
}

type Read = { ok: true; document: Partial<Profile> } | { ok: false; problem: string; control: HTMLElement };

const HOUR_S = 3600;
const DECISION_TIMEOUT_S = { low: 60, high: 7 * 24 * HOUR_S }; // the API's range
const REGION = /^[A-Z]{2}$/;

/** How the profile reads its files: what can be changed, checked as the API checks it. */
class FileReading {
  readonly element: HTMLElement;
  private readonly columns: ColumnRows | null;
  private readonly dates: HTMLSelectElement | null;
  private readonly region: HTMLInputElement;
  private readonly words: HTMLInputElement;
  private readonly format: HTMLSelectElement;
  private readonly sheet: HTMLInputElement;
  private readonly timeout: HTMLInputElement;

  constructor(profile: Profile, canonical: string[]) {
    const mapped = profile.source === "mapped";
    const summary = h(
      "dl",
      { class: "profile-summary", "aria-label": "What the profile was made for" },
      [
        ["Source", sourceName(profile)],
        ["Dates", mapped ? "as chosen below" : `${DATE_WORDS.day_first} (Techman's contract)`],
      ].map(([label, value]) => h("div", null, h("dt", null, label), h("dd", null, value))),
    );
    this.columns = mapped ? new ColumnRows(profile.columns ?? {}, canonical) : null;
    const order = profile.date_order ?? "day_first";
    const dates = mapped
      ? field(
          "The file writes its dates",
          select(
            "date_order",
            Object.entries(DATE_WORDS).map(([value, label]) => ({ value, label })),
            order,
          ),
        )
      : null;
    this.dates = dates?.control ?? null;
    const region = field(
      "Phones without a country code are in",
      h("input", { name: "phone_region", value: profile.phone_region ?? "", maxlength: "2", autocomplete: "off", size: "4" }),
      "A region code such as GB or DE; empty: the organisation's region.",
    );
    this.region = region.control;
    const words = field(
      "The file's own words for yes and no",
      h("input", { name: "boolean_words", value: wordsText(profile.boolean_words ?? {}), autocomplete: "off" }),
      "As word = yes or word = no, separated by commas, e.g. ja = yes, nein = no; empty: only the usual words.",
    );
    this.words = words.control;
    const format = field("Its files come as", select("format", FORMATS, profile.format ?? "csv"), "An ERP that starts sending workbooks: its next file is read as one.");
    this.format = format.control;
    const sheet = field("Sheet", h("input", { name: "sheet", value: profile.sheet ?? "", maxlength: "31", autocomplete: "off" }), "The workbook's sheet, by name; empty: its first sheet.");
    this.sheet = sheet.control;
    // Only a workbook has sheets.
    const showSheet = (): void => {
      sheet.element.hidden = this.format.value !== "xlsx";
    };
    showSheet();
    this.format.addEventListener("change", showSheet);
    const seconds = profile.decision_timeout_seconds;
    const timeout = field(
      "A person has this many hours to decide",
      h("input", {
        name: "decision_timeout_hours",
        type: "number",
        min: "0.02",
        max: "168",
        step: "any",
        inputmode: "decimal",
        value: seconds == null ? "" : String(Math.round((seconds / HOUR_S) * 100) / 100),
      }),
      "Up to 168 (a week); empty: the stack's default. Then the import expires, writing nothing.",
    );
    this.timeout = timeout.control;
    this.element = h(
      "fieldset",
      { class: "file-reading" },
      h("legend", null, "How the profile reads its files"),
      summary,
      this.columns?.element ?? null,
      dates?.element ?? null,
      region.element,
      words.element,
      format.element,
      sheet.element,
      timeout.element,
    );
  }

  read(): Read {
    const document: Partial<Profile> = {};
    if (this.columns) {
      const columns = this.columns.read();
      if (!columns.ok) return columns;
      Object.assign(document, columns.document);
    }
    if (this.dates) document.date_order = this.dates.value;
    const region = this.region.value.trim().toUpperCase();
    if (region && !REGION.test(region)) {
      return { ok: false, problem: "The phone region is a two-letter region code such as GB or DE, or empty.", control: this.region };
    }
    document.phone_region = region || null;
    const words = parseWords(this.words.value);
    if (typeof words === "string") return { ok: false, problem: words, control: this.words };
    document.boolean_words = words;
    document.format = this.format.value;
    document.sheet = document.format === "xlsx" ? this.sheet.value.trim() || null : null;
    const hours = this.timeout.value.trim();
    if (hours === "") {
      document.decision_timeout_seconds = null;
    } else {
      const seconds = Math.round(Number(hours) * HOUR_S);
      if (!Number.isFinite(seconds) || seconds < DECISION_TIMEOUT_S.low || seconds > DECISION_TIMEOUT_S.high) {
        return { ok: false, problem: "The hours a person has to decide run from one minute (0.02) to a week (168), or empty for the default.", control: this.timeout };
      }
      document.decision_timeout_seconds = seconds;
    }
    return { ok: true, document };
  }
}

type ColumnRow = { header: HTMLInputElement; column: HTMLSelectElement; remove: HTMLButtonElement; row: HTMLElement };

/** A mapped file's headers, each with the canonical column it holds; rows added and removed. */
class ColumnRows {
  readonly element: HTMLElement;
  private readonly body = h("tbody");
  private readonly rows: ColumnRow[] = [];

  constructor(
    columns: Record<string, string>,
    private readonly canonical: string[],
  ) {
    const add = h("button", { type: "button", class: "secondary" }, "Add a column");
    add.addEventListener("click", () => this.add("", "").header.focus());
    for (const [header, column] of Object.entries(columns)) this.add(header, column);
    this.element = h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        null,
        h("caption", null, "The file's columns, and what each holds"),
        h(
          "thead",
          null,
          h("tr", null, h("th", { scope: "col" }, "The file's header"), h("th", { scope: "col" }, "Holds"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Remove"))),
        ),
        this.body,
      ),
      add,
    );
  }

  private add(header: string, column: string): ColumnRow {
    const headerInput = h("input", { name: "column_header", value: header, maxlength: "200", autocomplete: "off" });
    const choices = this.canonical.includes(column) || !column ? this.canonical : [column, ...this.canonical];
    const columnSelect = h(
      "select",
      { name: "column_holds" },
      h("option", { value: "" }, "Choose…"),
      choices.map((name) => h("option", { value: name, selected: name === column }, name)),
    );
    const remove = h("button", { type: "button", class: "secondary" }, "Remove");
    const row = h("tr", null, h("td", null, headerInput), h("td", null, columnSelect), h("td", null, remove));
    const entry = { header: headerInput, column: columnSelect, remove, row };
    remove.addEventListener("click", () => {
      this.rows.splice(this.rows.indexOf(entry), 1);
      row.remove();
      this.number();
    });
    this.rows.push(entry);
    this.body.append(row);
    this.number();
    return entry;
  }

  /** Each row's controls named by its place, as a screen reader reads the table. */
  private number(): void {
    this.rows.forEach(({ header, column, remove }, index) => {
      header.setAttribute("aria-label", `Header of column ${index + 1}`);
      column.setAttribute("aria-label", `What column ${index + 1} holds`);
      remove.setAttribute("aria-label", `Remove column ${index + 1}`);
    });
  }

  read(): Read {
    const columns: Record<string, string> = {};
    const seen = new Map<string, string>();
    for (const { header, column } of this.rows) {
      const name = header.value.trim();
      if (!name && !column.value) continue; // a row added and left empty
      if (!name) return { ok: false, problem: `Column ${column.value} needs the file's header it comes from.`, control: header };
      if (!column.value) return { ok: false, problem: `Choose what the file's column ${name} holds.`, control: column };
      const folded = name.toLowerCase();
      if (seen.has(folded)) return { ok: false, problem: `The headers ${seen.get(folded)} and ${name} are one header (headers are matched ignoring case).`, control: header };
      seen.set(folded, name);
      columns[name] = column.value;
    }
    return { ok: true, document: { columns } };
  }
}

function wordsText(words: Record<string, boolean>): string {
  return Object.entries(words)
    .map(([word, yes]) => `${word} = ${yes ? "yes" : "no"}`)
    .join(", ");
}

/** `ja = yes, nein = no` as the API takes it, or what is wrong with it. */
function parseWords(text: string): Record<string, boolean> | string {
  const words: Record<string, boolean> = {};
  for (const part of text.split(",")) {
    if (!part.trim()) continue;
    const [word, meaning, ...rest] = part.split("=").map((piece) => piece.trim());
    const yes = meaning?.toLowerCase();
    if (!word || rest.length || (yes !== "yes" && yes !== "no")) {
      return `Write each word for yes or no as word = yes or word = no, not “${part.trim()}”.`;
    }
    words[word.toLowerCase()] = yes === "yes";
  }
  return words;
}

/** A labelled form control, its hint tied to it (a select as wide as its choices' words). */
function field<T extends HTMLInputElement | HTMLSelectElement>(label: string, control: T, hint?: string): { element: HTMLElement; control: T } {
  control.id = uid(control.name);
  const hintId = hint ? uid(`${control.name}-hint`) : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return {
    control,
    element: h(
      "div",
      { class: control instanceof HTMLSelectElement ? "field wide" : "field" },
      h("label", { for: control.id }, label),
      control,
      hint ? h("span", { id: hintId, class: "hint" }, hint) : null,
    ),
  };
}

function select(name: string, choices: { value: string; label: string }[], chosen: string): HTMLSelectElement {
  return h(
    "select",
    { name },
    choices.map((choice) => h("option", { value: choice.value, selected: choice.value === chosen }, choice.label)),
  );
}
