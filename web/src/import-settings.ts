// The choices of a new import: a saved import profile (which fixes everything), or the source,
// account, mode and, for update and sync, the key, the field policy, the transfer and the
// deletion threshold. Only the choices the signed-in person may make are offered: without
// customers.transfer there is no transfer to choose (the API would refuse it, 403).

import type { Api, FieldPolicy, Key, Mode, NewImport, NewProfileImport, Profile, Transfer } from "./api";
import { h, replace, uid } from "./dom";
import { DATE_WORDS, FIELD_POLICIES, KEY_CHOICES, MODES, profileSource, TRANSFERS } from "./labels";
import { can, CUSTOMERS_TRANSFER, type Session } from "./session";

const ACCOUNT = /^[A-Za-z0-9._-]{1,64}$/;
const DEFAULT_MAX_DELETE_PERCENT = 20;

/** What the form asks the API for, or why it cannot yet (and which field to go to). */
export type Request =
  | { ok: true; body: (file: File) => NewImport | NewProfileImport }
  | { ok: false; problem: string; field: HTMLElement };

export class ImportSettings {
  readonly element: HTMLElement;
  private readonly profiles = new Map<string, Profile>();
  private readonly profile: HTMLSelectElement;
  private readonly profileStatus = h("p", { class: "hint", role: "status" }, "Loading the import profiles…");
  private readonly profileSummary = h("dl", { class: "profile-summary", hidden: true, "aria-label": "The profile's settings" });
  private readonly own: HTMLElement;
  private readonly source: HTMLSelectElement;
  private readonly account: HTMLInputElement;
  private readonly updating: HTMLElement;
  private readonly fieldPolicy: HTMLSelectElement;
  private readonly transfer: HTMLElement | null;
  private readonly related: HTMLInputElement | null;
  private readonly threshold: HTMLElement;
  private readonly maxDelete: HTMLInputElement;
  private readonly mayTransfer: boolean;

  constructor(
    private readonly api: Api,
    session: Session,
  ) {
    this.mayTransfer = can(session, CUSTOMERS_TRANSFER);

    const profileId = uid("profile");
    const profileHint = uid("profile-hint");
    this.profile = h(
      "select",
      { id: profileId, name: "profile", "aria-describedby": profileHint },
      h("option", { value: "" }, "None: choose the settings here"),
    );
    this.profile.addEventListener("change", () => this.showProfile());

    const sourceId = uid("source");
    this.source = h("select", { id: sourceId, name: "source" }, h("option", { value: "techman" }, "Techman customer export"));
    const accountId = uid("account");
    const accountHint = uid("account-hint");
    this.account = h("input", {
      id: accountId,
      name: "account",
      value: "main",
      required: true,
      autocomplete: "off",
      "aria-describedby": accountHint,
    });

    const modes = radios("Mode", "mode", MODES, "insert");
    modes.classList.add("modes");
    modes.addEventListener("change", () => this.showMode());

    const keys = radios("Match customers by", "key", KEY_CHOICES, "external");
    const policyId = uid("policy");
    this.fieldPolicy = h(
      "select",
      { id: policyId, name: "field_policy" },
      FIELD_POLICIES.map((policy) => h("option", { value: policy.value }, policy.label)),
    );
    this.updating = h(
      "div",
      { class: "update-settings", hidden: true },
      keys,
      h("div", { class: "field wide" }, h("label", { for: policyId }, "What the file's values do to a stored customer"), this.fieldPolicy),
    );

    if (this.mayTransfer) {
      const relatedId = uid("related");
      const relatedHint = uid("related-hint");
      this.related = h("input", { type: "checkbox", id: relatedId, name: "transfer_related", disabled: true, "aria-describedby": relatedHint });
      const choices = radios("Transfer between accounts", "transfer", TRANSFERS, "none");
      choices.append(
        h(
          "div",
          { class: "check" },
          this.related,
          h("label", { for: relatedId }, "With related records"),
          h("span", { id: relatedHint, class: "hint" }, "its appointments, visit reports, call blocks and service bookings go along"),
        ),
      );
      choices.addEventListener("change", () => {
        const none = this.chosen("transfer") === "none";
        if (this.related) {
          this.related.disabled = none;
          if (none) this.related.checked = false;
        }
      });
      this.transfer = choices;
    } else {
      this.transfer = null;
      this.related = null;
    }

    const maxId = uid("max-delete");
    const maxHint = uid("max-delete-hint");
    this.maxDelete = h("input", {
      id: maxId,
      name: "max_delete_percent",
      type: "number",
      min: "0",
      max: "100",
      step: "any",
      inputmode: "decimal",
      value: String(DEFAULT_MAX_DELETE_PERCENT),
      "aria-describedby": maxHint,
    });
    this.threshold = h(
      "div",
      { class: "field", hidden: true },
      h("label", { for: maxId }, "Bin at most this share of the account without asking (%)"),
      this.maxDelete,
      h("span", { id: maxHint, class: "hint" }, "A sync that would bin more of the account's customers waits for you to confirm the deletions."),
    );

    this.own = h(
      "div",
      { class: "own-settings" },
      h("div", { class: "field" }, h("label", { for: sourceId }, "Source system"), this.source),
      h(
        "div",
        { class: "field" },
        h("label", { for: accountId }, "Account"),
        this.account,
        h("span", { id: accountHint, class: "hint" }, "The user account the customers go into, such as main."),
      ),
      modes,
      this.updating,
      this.transfer ? h("div", { class: "transfer-settings", hidden: true }, this.transfer) : null,
      this.threshold,
    );

    this.element = h(
      "div",
      { class: "import-settings" },
      h(
        "div",
        { class: "field wide" },
        h("label", { for: profileId }, "Import profile"),
        this.profile,
        h("span", { id: profileHint, class: "hint" }, "A saved profile fixes how the file is read and written: its source, account, mode and every setting."),
        this.profileStatus,
      ),
      this.profileSummary,
      this.own,
    );
    void this.loadProfiles();
  }

  /** The import to create for a file, or the first problem with the choices. */
  request(): Request {
    const name = this.profile.value;
    if (name) {
      const profile = this.profiles.get(name);
      if (!profile) return { ok: false, problem: "Choose one of the organisation's import profiles.", field: this.profile };
      return {
        ok: true,
        body: (file) => ({ source: profile.source, file_name: file.name, size: file.size, profile: name }),
      };
    }
    const account = this.account.value.trim();
    if (!ACCOUNT.test(account)) {
      return { ok: false, problem: "The account is 1 to 64 letters, digits, dots, dashes or underscores.", field: this.account };
    }
    const mode = (this.chosen("mode") ?? "insert") as Mode;
    const base = { source: this.source.value, account, mode };
    if (mode === "insert") {
      return { ok: true, body: (file) => ({ ...base, file_name: file.name, size: file.size }) };
    }
    const settings: Partial<NewImport> = {
      key: (this.chosen("key") ?? "external") as Key,
      field_policy: this.fieldPolicy.value as FieldPolicy,
    };
    if (this.mayTransfer) {
      settings.transfer = (this.chosen("transfer") ?? "none") as Transfer;
      settings.transfer_related = settings.transfer !== "none" && Boolean(this.related?.checked);
    }
    if (mode === "sync") {
      const percent = Number(this.maxDelete.value);
      if (this.maxDelete.value.trim() === "" || !Number.isFinite(percent) || percent < 0 || percent > 100) {
        return { ok: false, problem: "The share of the account a sync may bin without asking is a number from 0 to 100.", field: this.maxDelete };
      }
      settings.options = { max_delete_percent: percent };
    }
    return { ok: true, body: (file) => ({ ...base, ...settings, file_name: file.name, size: file.size }) };
  }

  private chosen(name: string): string | undefined {
    return this.element.querySelector<HTMLInputElement>(`input[name=${name}]:checked`)?.value;
  }

  private showMode(): void {
    const mode = this.chosen("mode");
    const updating = mode === "update" || mode === "sync";
    this.updating.hidden = !updating;
    if (this.transfer?.parentElement) this.transfer.parentElement.hidden = !updating;
    this.threshold.hidden = mode !== "sync";
  }

  private showProfile(): void {
    const profile = this.profiles.get(this.profile.value);
    this.own.hidden = Boolean(profile);
    this.profileSummary.hidden = !profile;
    if (!profile) {
      replace(this.profileSummary);
      return;
    }
    const updating = profile.mode === "update" || profile.mode === "sync";
    const rows: [string, string][] = [
      ["Source", profileSource(profile)],
      ["Account", profile.account],
      ["Mode", profile.mode],
      ...(updating
        ? ([
            ["Match by", KEY_CHOICES.find((key) => key.value === profile.key)?.label ?? profile.key],
            ["Field policy", profile.field_policy],
            ["Transfer", profile.transfer === "none" ? "none" : `${profile.transfer}${profile.transfer_related ? ", with related records" : ""}`],
          ] as [string, string][])
        : []),
      ...(profile.mode === "sync" ? ([["Bins without asking up to", `${profile.max_delete_percent} %`]] as [string, string][]) : []),
      ["Dates", DATE_WORDS[profile.date_order ?? "day_first"] ?? profile.date_order ?? ""],
      ["Review", profile.review === "auto" ? "runs without waiting (unless the file asks a question)" : "waits at the preview for you"],
    ];
    replace(this.profileSummary, rows.map(([label, value]) => h("div", null, h("dt", null, label), h("dd", null, value))));
  }

  private async loadProfiles(): Promise<void> {
    try {
      const { items } = await this.api.profiles();
      for (const profile of items) {
        // A profile that transfers is the transfer capability's to run (the API says 403).
        if (profile.transfer !== "none" && !this.mayTransfer) continue;
        this.profiles.set(profile.name, profile);
        this.profile.appendChild(h("option", { value: profile.name }, `${profile.name} (${profile.mode} into ${profile.account})`));
      }
      replace(this.profileStatus, this.profiles.size ? "" : "The organisation has no import profile yet.");
    } catch (error) {
      replace(this.profileStatus, `The import profiles did not load: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** A fieldset of radio buttons, each with its hint, the first `checked`. */
function radios(legend: string, name: string, choices: { value: string; label: string; hint: string }[], checked: string): HTMLFieldSetElement {
  return h(
    "fieldset",
    null,
    h("legend", null, legend),
    choices.map((choice) => {
      const id = uid(name);
      const hint = uid(`${name}-hint`);
      return h(
        "div",
        { class: "check" },
        h("input", { type: "radio", name, id, value: choice.value, checked: choice.value === checked, "aria-describedby": hint }),
        h("label", { for: id }, choice.label),
        h("span", { id: hint, class: "hint" }, choice.hint),
      );
    }),
  );
}
