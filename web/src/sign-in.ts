// The local stack's sign-in (home only): the person picks an organisation, a user and
// capabilities, and the local page server mints a token with the stack's key. In the cloud the
// page signs in through the user pool instead, and this page is not served.

import { loadConfig } from "./config";
import { replace } from "./dom";
import { CAPABILITIES, saveSession, safeReturn } from "./session";

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

interface Minted {
  token: string;
  org_id: string;
  user_id: string;
  capabilities: string[];
  expires_in_seconds: number;
}

async function signIn(form: HTMLFormElement, problem: HTMLElement): Promise<void> {
  const config = await loadConfig();
  if (config.sign_in !== "local" || !config.local_token_url) {
    throw new Error("This sign-in is for the local stack only.");
  }
  const org = (form.elements.namedItem("org") as HTMLInputElement).value.trim();
  const user = (form.elements.namedItem("user") as HTMLInputElement).value.trim();
  const capabilities = Array.from(form.querySelectorAll<HTMLInputElement>("input[name=capability]:checked"))
    .map((box) => box.value)
    .filter((value) => (CAPABILITIES as readonly string[]).includes(value));
  for (const [value, label, field] of [
    [org, "The organisation", "org"],
    [user, "The user", "user"],
  ] as const) {
    if (!NAME.test(value)) {
      (form.elements.namedItem(field) as HTMLInputElement).focus();
      throw new Error(`${label} is 1 to 64 letters, digits, dots, dashes or underscores.`);
    }
  }
  const response = await fetch(config.local_token_url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ org_id: org, user_id: user, capabilities }),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<Minted> & { message?: string };
  if (!response.ok || typeof body.token !== "string") {
    throw new Error(body.message ?? `The sign-in was refused (HTTP ${response.status})`);
  }
  saveSession({
    token: body.token,
    org_id: body.org_id ?? org,
    user_id: body.user_id ?? user,
    capabilities: body.capabilities ?? capabilities,
    expires_at: Date.now() + (body.expires_in_seconds ?? 0) * 1000,
  });
  replace(problem);
  location.replace(`./${safeReturn(new URLSearchParams(location.search).get("return"))}`);
}

const form = document.getElementById("sign-in") as HTMLFormElement;
const problem = document.getElementById("sign-in-error") as HTMLElement;
const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  button.disabled = true;
  signIn(form, problem).catch((error: unknown) => {
    button.disabled = false;
    replace(problem, error instanceof Error ? error.message : String(error));
  });
});
