// Where the API and the WebSocket are: the server that serves the page serves config.json
// beside it (the local stack at home; the deployment in the cloud).

export interface PageConfig {
  api_url: string;
  websocket_url: string;
  /** "local": the local stack's sign-in page mints tokens (home only). */
  sign_in: string;
  sign_in_url: string;
  local_token_url?: string;
}

export async function loadConfig(): Promise<PageConfig> {
  return pageConfig(await loadConfigDocument());
}

/** config.json as it came: the sign-in reads its own part of it (`cognitoConfig`). */
export async function loadConfigDocument(): Promise<unknown> {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`The page's configuration did not load (HTTP ${response.status})`);
  }
  return response.json();
}

export function pageConfig(document: unknown): PageConfig {
  const config = (document ?? {}) as Partial<PageConfig>;
  if (typeof config.api_url !== "string" || typeof config.websocket_url !== "string") {
    throw new Error("The page's configuration names no API or WebSocket");
  }
  return {
    api_url: config.api_url.replace(/\/+$/, ""),
    websocket_url: config.websocket_url.replace(/\/+$/, ""),
    sign_in: config.sign_in ?? "local",
    sign_in_url: config.sign_in_url ?? "sign-in.html",
    ...(config.local_token_url ? { local_token_url: config.local_token_url } : {}),
  };
}
