/** A real listening app and Debian's Chromium driven by playwright-core, for the browser suites. */
import { existsSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { createTestApp, type TestApp } from "../support/app.ts";
import { base32Decode } from "../support/base32.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";
/** CI installs Chromium (.ci/run); a machine without it skips these suites, saying why. */
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);
export const SKIP_NOTE = `browser tests skipped: ${CHROMIUM_PATH} is absent (apt-get install -y chromium)`;
if (!HAS_CHROMIUM) console.warn(SKIP_NOTE);

/** Screenshots saved as test artifacts (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}

export interface LiveApp {
  readonly t: TestApp;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
}

/** A test app (SQLite, hand-moved clock) listening on a free local port. */
export async function startLiveApp(env: Record<string, string> = {}): Promise<LiveApp> {
  const t = await createTestApp("sqlite", { env });
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  const address = t.app.server.address() as AddressInfo;
  return { t, origin: `http://127.0.0.1:${address.port}` };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Console errors and failed requests of a page: a CSP violation (inline style or script, an
 * external asset) shows up here, so a suite can assert there were none. By default an answer
 * counts from 500 (and 403, and any failed asset), since a flow may meet a deliberate 401 page;
 * `{ failAt: 400 }` counts every 4xx too, for a walk over pages that must all load.
 */
export function watchProblems(page: Page, options: { failAt?: number } = {}): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    // Failed loads are judged by status below: a 401 sign-in page or the absent favicon is fine.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${message.text()} (${message.location().url})`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    const error = request.failure()?.errorText ?? "?";
    // ERR_ABORTED: the page navigated on (a form posted, a link followed) before this load ended.
    if (error !== "net::ERR_ABORTED") problems.push(`failed: ${request.method()} ${request.url()} (${error})`);
  });
  page.on("response", (response) => {
    const url = new URL(response.url());
    const status = response.status();
    const failAt = options.failAt ?? 500;
    if (status >= failAt || status === 403 || (url.pathname.startsWith("/assets/") && status >= 400)) {
      problems.push(`${status} ${response.request().method()} ${url.pathname}`);
    }
  });
  return problems;
}

/** Signs in through the /login form, by keyboard: type, then Enter in the password field. */
export async function signInWithForm(page: Page, origin: string, email: string, password: string): Promise<void> {
  await page.goto(`${origin}/login`);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter");
}

export { base32Decode };
