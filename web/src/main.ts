// The import page (Settings > Import Data): a hash route per screen, so a reload or a return
// hours later reads the same job again (#/imports/<id>).

import { Api } from "./api";
import { loadConfig, type PageConfig } from "./config";
import type { Context, Screen } from "./context";
import { h, replace } from "./dom";
import { HomeScreen } from "./home";
import { JobScreen } from "./job";
import { clearSession, currentSession } from "./session";

const JOB_ROUTE = /^#\/imports\/([0-9a-fA-F-]{36})$/;

function signInAddress(config: PageConfig): string {
  const back = JOB_ROUTE.test(location.hash) ? location.hash : "#/";
  return `${config.sign_in_url}?${new URLSearchParams({ return: back })}`;
}

async function boot(): Promise<void> {
  const main = document.getElementById("main") as HTMLElement;
  let config: PageConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    replace(
      main,
      h("h1", null, "Import data"),
      h("p", { role: "alert" }, error instanceof Error ? error.message : String(error)),
    );
    return;
  }
  const session = currentSession();
  if (session === null) {
    location.replace(signInAddress(config));
    return;
  }
  const signOut = (): void => {
    clearSession();
    location.replace(signInAddress(config));
  };
  const context: Context = {
    api: new Api(config.api_url, session.token, signOut),
    config,
    session,
    uploads: new Map(),
  };
  const who = document.getElementById("who");
  if (who) {
    replace(
      who,
      h("span", null, "Signed in as ", h("strong", null, session.user_id), " · organisation ", h("strong", null, session.org_id)),
      h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
    );
  }
  let screen: Screen | null = null;
  const route = (): void => {
    screen?.dispose();
    const match = JOB_ROUTE.exec(location.hash);
    screen = match?.[1] ? new JobScreen(context, match[1]) : new HomeScreen(context);
    replace(main, screen.element);
  };
  window.addEventListener("hashchange", route);
  route();
}

void boot();
