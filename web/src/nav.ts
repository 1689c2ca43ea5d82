// The links between the page's screens: the imports, the profiles, the recycle bin and the
// audit log, each offered only to a sign-in whose capabilities open it.

import type { Context } from "./context";
import { h } from "./dom";
import { can, CUSTOMERS_ACCESS, IMPORT_MANAGE } from "./session";

export type ScreenName = "imports" | "profiles" | "recycle-bin" | "audit";

/** A screen for a sign-in without the capability it needs: its title, the links, and why. */
export function withoutCapability(context: Context, current: ScreenName, title: HTMLElement, capability: string, consequence: string): HTMLElement {
  return h("div", null, title, screenLinks(context, current), h("p", { role: "alert" }, `Your sign-in does not carry the ${capability} capability, so you ${consequence}`));
}

/** The page's other screens, those the signed-in person may open. */
export function screenLinks(context: Context, current: ScreenName | null): HTMLElement {
  const link = (screen: typeof current, href: string, label: string): HTMLElement =>
    h("li", null, h("a", { href, "aria-current": screen === current ? "page" : null }, label));
  return h(
    "nav",
    { "aria-label": "Import data screens", class: "screens" },
    h(
      "ul",
      null,
      link("imports", "#/", "Imports"),
      can(context.session, IMPORT_MANAGE) ? link("profiles", "#/profiles", "Profiles") : null,
      can(context.session, CUSTOMERS_ACCESS) ? link("recycle-bin", "#/recycle-bin", "Recycle bin") : null,
      can(context.session, IMPORT_MANAGE) ? link("audit", "#/audit", "Audit log") : null,
    ),
  );
}
