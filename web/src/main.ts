// The import page (Settings > Import Data): a hash route per screen, so a reload or a return
// hours later reads the same job again (#/imports/<id>).

import { Api } from "./api";
import { loadConfigDocument, pageConfig, type PageConfig } from "./config";
import type { Context, Screen } from "./context";
import { h, replace } from "./dom";
import { AuditScreen } from "./audit";
import { HomeScreen } from "./home";
import { JobScreen } from "./job";
import { ProfilesScreen } from "./profiles";
import { RecycleBinScreen } from "./recycle-bin";
import { cognitoConfig, finishSignIn, isSignInRedirect, sessionFrom, signOutUrl, startSignIn, type CognitoConfig } from "./cognito";
import { clearSession, currentSession, saveSession } from "./session";

const JOB_ROUTE = /^#\/imports\/([0-9a-fA-F-]{36})$/;
// The recycle bin of an account (main when none is named).
const BIN_ROUTE = /^#\/recycle-bin(?:\/([A-Za-z0-9._-]{1,64}))?$/;
const AUDIT_ROUTE = /^#\/audit$/;
// The import profiles, or one of them (customer_import.profiles.PROFILE_NAME_PATTERN).
const PROFILES_ROUTE = /^#\/profiles(?:\/([a-z0-9][a-z0-9_-]{0,63}))?$/;

function signInAddress(config: PageConfig): string {
  const back = [JOB_ROUTE, BIN_ROUTE, AUDIT_ROUTE, PROFILES_ROUTE].some((route) => route.test(location.hash)) ? location.hash : "#/";
  return `${config.sign_in_url}?${new URLSearchParams({ return: back })}`;
}

async function boot(): Promise<void> {
  const main = document.getElementById("main") as HTMLElement;
  let config: PageConfig;
  // In the cloud the page signs in on the user pool's hosted UI (code flow and PKCE); at home
  // config.json names no user pool and the local sign-in page mints the token.
  let cognito: CognitoConfig | null = null;
  try {
    const raw = await loadConfigDocument();
    config = pageConfig(raw);
    cognito = cognitoConfig(raw);
    if (cognito && isSignInRedirect()) saveSession(sessionFrom(await finishSignIn(cognito)));
  } catch (error) {
    const hostedUi = cognito;
    replace(
      main,
      h("h1", null, "Import data"),
      h("p", { role: "alert" }, error instanceof Error ? error.message : String(error)),
      // A sign-in that came back refused, forged or expired: start a new one from here.
      hostedUi
        ? h("button", { type: "button", onclick: () => void startSignIn(hostedUi, location.hash) }, "Sign in again")
        : null,
    );
    return;
  }
  const session = currentSession();
  if (session === null) {
    if (cognito) await startSignIn(cognito, location.hash);
    else location.replace(signInAddress(config));
    return;
  }
  const signOut = (): void => {
    clearSession();
    if (cognito) location.assign(signOutUrl(cognito));
    else location.replace(signInAddress(config));
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
    const job = JOB_ROUTE.exec(location.hash);
    const bin = BIN_ROUTE.exec(location.hash);
    const profiles = PROFILES_ROUTE.exec(location.hash);
    screen = job?.[1]
      ? new JobScreen(context, job[1])
      : bin
        ? new RecycleBinScreen(context, bin[1] ?? "main")
        : profiles
          ? new ProfilesScreen(context, profiles[1] ?? null)
          : AUDIT_ROUTE.test(location.hash)
            ? new AuditScreen(context)
            : new HomeScreen(context);
    replace(main, screen.element);
  };
  window.addEventListener("hashchange", route);
  route();
}

void boot();
