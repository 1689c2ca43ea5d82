// What every screen of the page shares: the API as the signed-in person, the page's
// configuration, and the uploads this tab is sending.

import type { Api } from "./api";
import type { PageConfig } from "./config";
import type { Session } from "./session";

export interface UploadState {
  file: File;
  sent: number;
  total: number;
  error: string | null;
  done: boolean;
  listeners: Set<() => void>;
}

export interface Context {
  api: Api;
  config: PageConfig;
  session: Session;
  /** Uploads under way in this tab, by job id (a reload loses them: the job then waits). */
  uploads: Map<string, UploadState>;
}

export interface Screen {
  /** The screen's element, put into <main>. */
  readonly element: HTMLElement;
  /** Stop whatever it follows (the job's feed). */
  dispose(): void;
}

/** Move the reader's focus to a heading that just appeared (it needs tabindex="-1"). */
export function focusHeading(heading: HTMLElement | null): void {
  if (heading) heading.focus({ preventScroll: false });
}
