import { UAParser } from "ua-parser-js";

/**
 * A user agent in words ("Firefox 133 on Windows 10"), for pages, e-mails and the event log.
 * Parsing is ua-parser-js's field, not ours; this only chooses the words. Unknown or missing
 * agents read as "an unknown browser" so a sentence built around the result still reads.
 */
export function describeUserAgent(userAgent: string | null | undefined): string {
  if (!userAgent) return "an unknown browser";
  const { browser, os, device } = new UAParser(userAgent).getResult();
  const major = browser.version?.split(".")[0];
  const name = browser.name ? [browser.name, major].filter(Boolean).join(" ") : null;
  const system = os.name ? [os.name, os.version].filter(Boolean).join(" ") : null;
  const model = device.model && !system?.includes(device.model) ? device.model : null;
  const where = [system, model].filter(Boolean).join(", ");
  if (name && where) return `${name} on ${where}`;
  if (name) return name;
  if (where) return `a browser on ${where}`;
  // Not a browser (curl, an SDK): its first product token says enough.
  const product = userAgent.trim().split(/\s+/)[0]?.slice(0, 40);
  return product ? product : "an unknown browser";
}
