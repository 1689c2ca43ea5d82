// An account's recycle bin (GET /recycle-bin?account=A, capability customers.access): the
// customers a sync binned, newest binned first, each until its purge, and restore
// (POST /recycle-bin/{id}/restore). The account is in the address (#/recycle-bin/<account>),
// so a reload shows the same bin.

import { ApiError, type BinnedCustomer } from "./api";
import { focusHeading, type Context, type Screen } from "./context";
import { h, replace, uid, when } from "./dom";
import { screenLinks, withoutCapability } from "./nav";
import { can, CUSTOMERS_ACCESS } from "./session";

const ACCOUNT = /^[A-Za-z0-9._-]{1,64}$/;
const PAGE = 50;

export class RecycleBinScreen implements Screen {
  readonly element: HTMLElement;
  private readonly heading = h("h2", { id: "bin-heading", tabindex: "-1" }, "Recycle bin");
  private readonly status = h("p", { role: "status" });
  private readonly problem = h("div", { role: "alert", class: "problem" });
  private readonly body = h("tbody");
  private readonly table: HTMLTableElement;
  private readonly caption = h("caption");
  private readonly more = h("button", { type: "button", hidden: true }, "Show more binned customers");
  private cursor: string | undefined;
  private disposed = false;

  constructor(
    private readonly context: Context,
    private readonly account: string,
  ) {
    document.title = `Recycle bin of ${account} · Import data`;
    const title = h("h1", null, "Import data");
    if (!can(context.session, CUSTOMERS_ACCESS)) {
      this.element = withoutCapability(context, "recycle-bin", title, CUSTOMERS_ACCESS, "cannot see or restore binned customers.");
      this.table = h("table");
      return;
    }
    const accountId = uid("bin-account");
    const hint = uid("bin-account-hint");
    const input = h("input", { id: accountId, name: "account", value: account, required: true, autocomplete: "off", "aria-describedby": hint });
    const choose = h(
      "form",
      { class: "inline-form", novalidate: true, "aria-label": "Choose the account" },
      h("div", { class: "field" }, h("label", { for: accountId }, "Account"), input, h("span", { id: hint, class: "hint" }, "Each account has a recycle bin of its own.")),
      h("button", { type: "submit" }, "Show its recycle bin"),
    );
    choose.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = input.value.trim();
      if (!ACCOUNT.test(chosen)) {
        replace(this.problem, "The account is 1 to 64 letters, digits, dots, dashes or underscores.");
        input.focus();
        return;
      }
      location.hash = `#/recycle-bin/${chosen}`;
    });
    this.table = h(
      "table",
      { hidden: true },
      this.caption,
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Customer", "Number", "Binned", "Purged from", "Restore"].map((label) => h("th", { scope: "col" }, label)),
        ),
      ),
      this.body,
    );
    this.more.addEventListener("click", () => void this.load());
    this.element = h(
      "div",
      null,
      title,
      screenLinks(context, "recycle-bin"),
      h(
        "section",
        { "aria-labelledby": "bin-heading" },
        this.heading,
        h(
          "p",
          null,
          "A customer a sync binned keeps its addresses, vehicles and related records, and is left out of every listing and of duplicate detection until it is restored here (or by a later import whose file holds it) or purged for good.",
        ),
        choose,
        this.problem,
        this.status,
        this.table,
        this.more,
      ),
    );
    replace(this.heading, `Recycle bin of account ${account}`);
    void this.load().then(() => focusHeading(this.heading));
  }

  dispose(): void {
    this.disposed = true;
  }

  private async load(): Promise<void> {
    this.more.disabled = true;
    replace(this.status, "Loading the binned customers…");
    try {
      const page = await this.context.api.recycleBin(this.account, PAGE, this.cursor);
      if (this.disposed) return;
      for (const customer of page.items) this.body.appendChild(this.row(customer));
      this.cursor = page.next_cursor ?? undefined;
      this.more.hidden = !this.cursor;
      const shown = this.body.childElementCount;
      this.table.hidden = shown === 0;
      replace(this.caption, `Binned customers of account ${this.account}, newest binned first`);
      replace(this.status, shown === 0 ? `The recycle bin of account ${this.account} is empty.` : "");
    } catch (error) {
      replace(this.status);
      replace(this.problem, error instanceof Error ? error.message : String(error));
    } finally {
      this.more.disabled = false;
    }
  }

  private row(customer: BinnedCustomer): HTMLTableRowElement {
    const name = customer.name ?? "(no name)";
    const button = h("button", { type: "button", "aria-label": `Restore ${name}` }, "Restore");
    const cell = h("td", null, button);
    button.addEventListener("click", () => {
      button.disabled = true;
      replace(this.problem);
      this.context.api.restore(customer.customer_id).then(
        (restored) => {
          // The button goes: the focus moves to what took its place.
          const done = h("span", { class: "done", tabindex: "-1" }, `Restored into account ${restored.account ?? restored.account_id}`);
          replace(cell, done);
          done.focus();
          replace(this.status, `${name} is live again in account ${restored.account ?? restored.account_id}.`);
        },
        (error: unknown) => {
          button.disabled = false;
          replace(
            this.problem,
            error instanceof ApiError && error.status === 409 ? `${name} was not restored: ${error.message}` : error instanceof Error ? error.message : String(error),
          );
        },
      );
    });
    return h(
      "tr",
      { "data-customer": customer.customer_id },
      h("th", { scope: "row" }, name),
      h("td", null, customer.external_customer_number ?? ""),
      h("td", null, when(customer.deleted_at)),
      h("td", null, purgeDay(customer.purge_after)),
      cell,
    );
  }
}

/** The first day (UTC) the customer may be purged: "17 Dec 2026". */
function purgeDay(iso: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!match) return iso;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toLocaleDateString("en-GB", { dateStyle: "medium", timeZone: "UTC" });
}
