import { fileURLToPath } from "node:url";
import { Eta } from "eta";

const PAGES_DIR = fileURLToPath(new URL("./pages/", import.meta.url));
const eta = new Eta({ views: PAGES_DIR, cache: true, autoEscape: true });

export type RecoveryPage = "unlock" | "reset" | "message";

export interface RecoveryPageData {
  readonly title: string;
  readonly error?: string;
  readonly [key: string]: unknown;
}

/**
 * The unlock and reset pages: server-rendered HTML without scripts or inline styles (the
 * CSP forbids both), a label on every field, every value escaped.
 */
export function renderRecoveryPage(page: RecoveryPage, data: RecoveryPageData): string {
  return eta.render(`${page}.eta`, data);
}
