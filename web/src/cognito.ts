// Sign-in through the user pool's hosted UI, in the cloud only (at home the local stack's own
// sign-in page mints tokens): the authorization code flow with PKCE (RFC 7636) for a public
// client, no secret. config.json, written by the deployment beside the page
// (infra/constructs/web_hosting.py), names the hosted UI's domain, the app client and the
// redirect URI. The page keeps the ID token: its claims carry the organisation and the
// capabilities, and the HTTP API's and the WebSocket's authorizers check it.

import { safeReturn, type Session } from "./session";

export interface CognitoConfig {
  /** `https://<prefix>.auth.<region>.amazoncognito.com`: the hosted UI. */
  cognito_domain: string;
  client_id: string;
  region: string;
  /** `https://<distribution>/`: where the hosted UI sends the browser back with the code. */
  redirect_uri: string;
}

export interface SignedIn {
  id_token: string;
  access_token: string;
  /** Seconds the tokens are valid for, from now. */
  expires_in: number;
  /** The page's route the sign-in started from (`#/...`), to go back to. */
  return_to: string;
}

// What the scopes the app client allows (openid, email) give: the ID token and the user's email.
const SCOPES = "openid email";
// The verifier and state of the sign-in under way, in this tab only, until the code comes back.
const PENDING_KEY = "customer-import.cognito-pending";
const ORG_CLAIM = "custom:org_id";
const CAPABILITIES_CLAIM = "custom:capabilities";

interface Pending {
  state: string;
  verifier: string;
  return_to: string;
}

/** The Cognito part of config.json, or null when the page signs in another way (at home). */
export function cognitoConfig(raw: unknown): CognitoConfig | null {
  if (typeof raw !== "object" || raw === null) return null;
  const config = raw as Record<string, unknown>;
  if (config["sign_in"] !== "cognito") return null;
  const fields = ["cognito_domain", "client_id", "region", "redirect_uri"] as const;
  for (const field of fields) {
    if (typeof config[field] !== "string" || config[field] === "") {
      throw new Error(`The page's configuration names no ${field} for the sign-in`);
    }
  }
  const domain = new URL(config["cognito_domain"] as string);
  if (domain.protocol !== "https:") throw new Error("The sign-in's domain is not https://");
  return {
    cognito_domain: domain.origin,
    client_id: config["client_id"] as string,
    region: config["region"] as string,
    redirect_uri: config["redirect_uri"] as string,
  };
}

/** Sends the browser to the hosted UI; it comes back to `redirect_uri` with a code. */
export async function startSignIn(config: CognitoConfig, returnTo = "#/"): Promise<void> {
  const verifier = randomText(64);
  const state = randomText(32);
  const pending: Pending = { state, verifier, return_to: safeReturn(returnTo) };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: SCOPES,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${config.cognito_domain}/oauth2/authorize?${query}`);
}

/** Whether this address is the hosted UI's redirect back (a code, or an error, and a state). */
export function isSignInRedirect(search: string = location.search): boolean {
  const query = new URLSearchParams(search);
  return query.has("state") && (query.has("code") || query.has("error"));
}

/**
 * On the redirect back: checks the state against the sign-in this tab started, trades the code
 * and the verifier for the tokens, and takes the code out of the address.
 */
export async function finishSignIn(
  config: CognitoConfig,
  search: string = location.search,
): Promise<SignedIn> {
  const query = new URLSearchParams(search);
  const pending = takePending();
  // Whatever happens next, the code must not stay in the address (or the history).
  history.replaceState(null, "", `${location.pathname}${pending?.return_to ?? "#/"}`);
  if (pending === null || query.get("state") !== pending.state) {
    throw new Error("This sign-in was not started here, or has already been used: sign in again.");
  }
  const error = query.get("error");
  if (error !== null) {
    throw new Error(`The sign-in was refused: ${query.get("error_description") ?? error}`);
  }
  const code = query.get("code");
  if (!code) throw new Error("The sign-in came back without a code: sign in again.");
  const response = await fetch(`${config.cognito_domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.client_id,
      code,
      redirect_uri: config.redirect_uri,
      code_verifier: pending.verifier,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body["id_token"] !== "string" || typeof body["access_token"] !== "string") {
    const reason = typeof body["error"] === "string" ? body["error"] : `HTTP ${response.status}`;
    throw new Error(`The sign-in could not be completed (${reason}): sign in again.`);
  }
  return {
    id_token: body["id_token"],
    access_token: body["access_token"],
    expires_in: typeof body["expires_in"] === "number" ? body["expires_in"] : 3600,
    return_to: pending.return_to,
  };
}

/** The page's session from the ID token's claims (the API checks the token itself). */
export function sessionFrom(signedIn: SignedIn, now: number = Date.now()): Session {
  const claims = claimsOf(signedIn.id_token);
  const expiry = typeof claims["exp"] === "number" ? claims["exp"] * 1000 : now + signedIn.expires_in * 1000;
  const capabilities = claims[CAPABILITIES_CLAIM];
  return {
    token: signedIn.id_token,
    org_id: typeof claims[ORG_CLAIM] === "string" ? claims[ORG_CLAIM] : "",
    user_id: typeof claims["email"] === "string" ? claims["email"] : String(claims["sub"] ?? ""),
    capabilities: typeof capabilities === "string" ? capabilities.split(/[\s,]+/).filter(Boolean) : [],
    expires_at: expiry,
  };
}

/** The hosted UI's sign-out, which ends its session too and comes back to the page. */
export function signOutUrl(config: CognitoConfig): string {
  const query = new URLSearchParams({ client_id: config.client_id, logout_uri: config.redirect_uri });
  return `${config.cognito_domain}/logout?${query}`;
}

function takePending(): Pending | null {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY); // a state is good for one answer only
  if (!raw) return null;
  try {
    const pending = JSON.parse(raw) as Partial<Pending>;
    if (typeof pending.state !== "string" || typeof pending.verifier !== "string") return null;
    return { state: pending.state, verifier: pending.verifier, return_to: safeReturn(pending.return_to ?? null) };
  } catch {
    return null;
  }
}

/** The claims of a JWT, read without checking its signature (only the API's authorizers trust it). */
function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("The sign-in returned no usable ID token");
  const bytes = fromBase64Url(payload);
  const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof claims !== "object" || claims === null) throw new Error("The ID token has no claims");
  return claims as Record<string, unknown>;
}

/** `bytes` random bytes from the browser's CSPRNG, as base64url (RFC 7636's unreserved set). */
function randomText(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return toBase64Url(new Uint8Array(digest));
}

function toBase64Url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}
