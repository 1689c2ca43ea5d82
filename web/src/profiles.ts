// The organisation's import profiles (GET /profiles, capability settings.import.manage), and
// one profile's settings changed in a form and saved whole (PUT /profiles/{name}) or the
// profile deleted (DELETE). How its file is read (the source, the format, a mapped file's
// columns, the dates) is shown, not edited here: it comes from the import it was kept from
// ("Save as a profile") or from `customer-import profiles suggest`.

import { ApiError, type Profile } from "./api";
import { focusHeading, type Context, type Screen } from "./context";
import { h, replace, uid } from "./dom";
import { CHOICES, DATE_WORDS, FIELD_POLICIES, KEY_CHOICES, MODES, profileSource, TRANSFERS } from "./labels";
import { screenLinks, withoutCapability } from "./nav";
import { can, CUSTOMERS_TRANSFER, IMPORT_MANAGE } from "./session";

const ACCOUNT = /^[A-Za-z0-9._-]{1,64}$/;
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
      if (this.disposed) return;
      replace(this.status);
      replace(this.content, this.form(profile));
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

  private form(profile: Profile): HTMLElement {
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
    const transfer = mayTransfer ? field("Transfer between accounts", select("transfer", TRANSFERS, profile.transfer), "In update and sync modes.") : null;
    const relatedId = uid("related");
    const related = h("input", { type: "checkbox", id: relatedId, name: "transfer_related", checked: profile.transfer_related });
    const save = h("button", { type: "submit", disabled: profile.transfer !== "none" && !mayTransfer }, `Save profile ${profile.name}`);
    const remove = h("button", { type: "button", class: "secondary" }, `Delete profile ${profile.name}`);
    const result = h("p", { role: "status" });
    const form = h(
      "form",
      { class: "profile-editor", novalidate: true, "aria-label": `The settings of profile ${profile.name}` },
      h("dl", { class: "profile-summary", "aria-label": "How the profile reads its files" }, readRows(profile).map(([label, value]) => h("div", null, h("dt", null, label), h("dd", null, value)))),
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

function readRows(profile: Profile): [string, string][] {
  const order = profile.date_order ?? "day_first";
  const mapped = Object.keys(profile.columns ?? {}).length;
  return [
    ["Source", profileSource(profile)],
    ...(mapped ? ([["Columns", `${mapped} of the file's columns mapped`]] as [string, string][]) : []),
    ["Dates", DATE_WORDS[order] ?? order],
  ];
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
