// Who is signed in: the token and what it says, kept in this tab's sessionStorage only (a new
// tab signs in again; a reload keeps it).

export const IMPORT_MANAGE = "settings.import.manage";
export const CUSTOMERS_ACCESS = "customers.access";
export const CUSTOMERS_TRANSFER = "customers.transfer";
export const CAPABILITIES = [IMPORT_MANAGE, CUSTOMERS_ACCESS, CUSTOMERS_TRANSFER] as const;

const KEY = "customer-import.session";

export interface Session {
  token: string;
  org_id: string;
  user_id: string;
  capabilities: string[];
  /** Milliseconds since the epoch. */
  expires_at: number;
}

export function currentSession(now: number = Date.now()): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.token !== "string" || !(session.expires_at > now)) {
      clearSession();
      return null;
    }
    return session;
  } catch {
    clearSession();
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

export function can(session: Session, capability: string): boolean {
  return session.capabilities.includes(capability);
}

/** Only routes of this page may be returned to after signing in (never another address). */
export function safeReturn(value: string | null): string {
  return value && /^#\/[A-Za-z0-9/._-]*$/.test(value) ? value : "#/";
}
