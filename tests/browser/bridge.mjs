// Drives Debian's Chromium (/usr/bin/chromium) with Playwright's core for the browser tests:
// pytest starts this script (tests/browser/browser.py) and sends it one JSON command a line
// on stdin; each answer is one JSON line on stdout, {"id", "ok", "value"} or {"id", "ok":
// false, "error"}. Targets are found as a person (or a screen reader) finds them: by role and
// accessible name, by label, by text; CSS only where nothing else names the thing.
//
// Playwright's own browser downloads are never used: playwright-core brings none, and the
// executable is the system's.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { createInterface } from "node:readline";

const web = new URL("../../web/package.json", import.meta.url);
const require = createRequire(web);
const { chromium } = require("playwright-core");
const AXE = require.resolve("axe-core/axe.min.js");

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let context = null;
let page = null;
const seen = { dialogs: [], pageErrors: [], consoleErrors: [], requests: [], websockets: [] };

function locate(target, root = page) {
  if (!target || typeof target !== "object") throw new Error(`No target: ${JSON.stringify(target)}`);
  let scope = target.within ? locate(target.within, root) : root;
  let found;
  const exact = target.exact ?? false;
  if (target.role) {
    const options = { exact };
    if (target.name !== undefined) options.name = target.name;
    if (target.level !== undefined) options.level = target.level;
    found = scope.getByRole(target.role, options);
  } else if (target.label) found = scope.getByLabel(target.label, { exact });
  else if (target.text) found = scope.getByText(target.text, { exact });
  else if (target.testid) found = scope.getByTestId(target.testid);
  else if (target.css) found = scope.locator(target.css);
  else throw new Error(`Unknown target: ${JSON.stringify(target)}`);
  if (target.hasText) found = found.filter({ hasText: target.hasText });
  if (target.nth !== undefined) found = found.nth(target.nth);
  return found;
}

async function launch({ userDataDir, width = 1280, height = 900 }) {
  // A fresh profile each time (--user-data-dir, which Playwright passes for the directory).
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    acceptDownloads: true,
    viewport: { width, height },
    locale: "en-GB",
    timezoneId: "Europe/London",
  });
  context.setDefaultTimeout(15_000);
  page = context.pages()[0] ?? (await context.newPage());
  page.on("dialog", async (dialog) => {
    seen.dialogs.push({ type: dialog.type(), message: dialog.message() });
    await dialog.dismiss();
  });
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") seen.consoleErrors.push(message.text());
  });
  page.on("request", (request) => seen.requests.push(request.url()));
  page.on("websocket", (socket) => {
    const entry = { url: socket.url(), sent: [], received: [] };
    seen.websockets.push(entry);
    socket.on("framesent", (frame) => entry.sent.push(String(frame.payload)));
    socket.on("framereceived", (frame) => entry.received.push(String(frame.payload)));
  });
  return { version: context.browser()?.version() ?? null };
}

async function drop({ target, path, mime = "text/csv" }) {
  // A file dropped as a person drops one: dragenter, dragover and drop carrying a DataTransfer
  // that holds the file (Playwright has no drag from the desktop).
  const bytes = [...(await readFile(path))];
  const name = basename(path);
  const transfer = await page.evaluateHandle(
    ({ bytes, name, mime }) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
      return data;
    },
    { bytes, name, mime },
  );
  const zone = locate(target);
  for (const type of ["dragenter", "dragover", "drop"]) {
    await zone.dispatchEvent(type, { dataTransfer: transfer });
  }
  await transfer.dispose();
  return null;
}

async function axe({ include }) {
  // axe-core from web/node_modules, evaluated in the page (no CDN, and past the page's CSP,
  // which allows no injected script).
  const loaded = await page.evaluate("typeof window.axe !== 'undefined'");
  if (!loaded) await page.evaluate(await readFile(AXE, "utf8"));
  const results = await page.evaluate(
    async ({ include }) =>
      await window.axe.run(include ? { include: [include] } : document, {
        resultTypes: ["violations"],
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      }),
    { include: include ?? null },
  );
  return {
    url: results.url,
    passes: results.passes.length,
    violations: results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.join(" ")),
    })),
  };
}

async function waitForExpression({ expression, timeout = 30_000 }) {
  // Polled from here with page.evaluate: Playwright's waitForFunction evaluates its string in
  // the page, which the page's CSP (no 'unsafe-eval') rightly refuses.
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Still false after ${timeout} ms: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForPush({ fields, timeout = 30_000 }) {
  // A message the page received over a WebSocket, whose JSON holds every one of `fields`.
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const socket of seen.websockets) {
      for (const payload of socket.received) {
        let message;
        try {
          message = JSON.parse(payload);
        } catch {
          continue;
        }
        if (Object.entries(fields).every(([name, value]) => message[name] === value)) return message;
      }
    }
    if (Date.now() > deadline) throw new Error(`No push with ${JSON.stringify(fields)} in ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function forward({ origin, to }) {
  // Every request the browser makes to `origin` from now on goes to `to` instead (same method,
  // path, query, headers and body), and `to`'s answer comes back as `origin`'s: a site the
  // tests stand in for (a hosted sign-in on https://) answered by a server of the test's own on
  // loopback. A redirect is not followed here but by the browser, and Playwright routes no
  // request a redirect leads to: that one goes to the address as it is.
  const from = new URL(origin).origin;
  await context.route(
    (url) => url.origin === from,
    async (route) => {
      const url = new URL(route.request().url());
      const response = await route.fetch({ url: new URL(`${url.pathname}${url.search}`, to).href, maxRedirects: 0 });
      await route.fulfill({ response });
    },
  );
  return null;
}

const OPS = {
  launch,
  drop,
  axe,
  goto: async ({ url }) => (await page.goto(url), page.url()),
  reload: async () => (await page.reload(), page.url()),
  url: async () => page.url(),
  click: async ({ target }) => locate(target).click(),
  fill: async ({ target, value }) => locate(target).fill(value),
  check: async ({ target }) => locate(target).check(),
  setChecked: async ({ target, checked }) => locate(target).setChecked(checked),
  select: async ({ target, value }) => locate(target).selectOption(value),
  press: async ({ target, key }) => locate(target).press(key),
  keyboard: async ({ key }) => page.keyboard.press(key),
  type: async ({ text }) => page.keyboard.type(text),
  setFiles: async ({ target, path }) => locate(target).setInputFiles(path),
  waitFor: async ({ target, state = "visible", timeout }) => locate(target).first().waitFor({ state, timeout }),
  text: async ({ target }) => locate(target).first().innerText(),
  texts: async ({ target }) => locate(target).allInnerTexts(),
  count: async ({ target }) => locate(target).count(),
  attribute: async ({ target, name }) => locate(target).first().getAttribute(name),
  focused: async () =>
    page.evaluate(() => {
      const element = document.activeElement;
      return element ? { tag: element.tagName.toLowerCase(), text: element.textContent?.trim() ?? "" } : null;
    }),
  evaluate: async ({ expression }) => page.evaluate(expression),
  waitForFunction: waitForExpression,
  screenshot: async ({ path, fullPage = true }) => (await page.screenshot({ path, fullPage }), path),
  download: async ({ target, saveAs }) => {
    const [download] = await Promise.all([page.waitForEvent("download"), locate(target).click()]);
    await download.saveAs(saveAs);
    return { suggested: download.suggestedFilename(), url: download.url(), path: saveAs };
  },
  events: async () => seen,
  waitForPush,
  // Every WebSocket the page opens from now on is closed at once, as a network that drops them.
  refuseWebSockets: async () => context.routeWebSocket(/.*/, (socket) => socket.close()),
  forward,
  close: async () => {
    await context?.close();
    context = null;
    return null;
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, op, ...args } = JSON.parse(line);
  let answer;
  try {
    if (!(op in OPS)) throw new Error(`Unknown operation ${op}`);
    if (op !== "launch" && page === null) throw new Error("The browser is not launched");
    const value = await OPS[op](args);
    answer = { id, ok: true, value: value === undefined ? null : value };
  } catch (error) {
    answer = { id, ok: false, error: String(error?.message ?? error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  if (op === "close") break;
}
await context?.close();
process.exit(0);
