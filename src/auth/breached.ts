import { createHash } from "node:crypto";

/**
 * Have I Been Pwned's range API with k-anonymity: only the first 5 hex characters of the
 * password's SHA-1 leave the server; the answer lists every suffix with that prefix (padded
 * with zero-count decoys, `Add-Padding: true`, so its size tells nothing either).
 */

/** A new password waits for the range API at most this long, then is accepted (fail open). */
export const HIBP_TIMEOUT_MS = 2_000;
export const PREFIX_LENGTH = 5;
/**
 * The most of an answer read: a padded range is 800–1,000 lines of 40 bytes (about 40 KB), so
 * anything near this is not the range API, and a server streaming without end is cut off
 * before it fills memory (the timeout alone would let it send hundreds of MB first).
 */
export const MAX_RANGE_BYTES = 1024 * 1024;

export type BreachLookup =
  | { readonly kind: "breached"; readonly count: number }
  | { readonly kind: "not_found" }
  /** The range API could not answer; `reason` is for the log, never for the user. */
  | { readonly kind: "unavailable"; readonly reason: string };

export interface BreachCheck {
  lookup(password: string): Promise<BreachLookup>;
}

/** The narrow part of `fetch` the client uses, so tests can count calls or fail them. */
export type RangeFetch = (
  url: string,
  init: { readonly headers: Readonly<Record<string, string>>; readonly signal: AbortSignal },
) => Promise<{ readonly status: number; readonly body?: ReadableStream<Uint8Array> | null; text(): Promise<string> }>;

/** The answer's text, or null once it passes MAX_RANGE_BYTES (the rest is not read). */
async function cappedText(response: Awaited<ReturnType<RangeFetch>>): Promise<string | null> {
  if (!response.body) {
    const text = await response.text();
    return Buffer.byteLength(text) > MAX_RANGE_BYTES ? null : text;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString("utf8");
    bytes += value.byteLength;
    if (bytes > MAX_RANGE_BYTES) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
}

export interface HibpOptions {
  /** DEADBOLT_HIBP_URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly fetch?: RangeFetch;
  readonly timeoutMs?: number;
}

/** Upper-case hex SHA-1, as the range API lists it. */
export function sha1Hex(password: string): string {
  return createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();
}

/** How often `suffix` occurs in a range answer; 0 for padding entries and absent suffixes. */
export function countInRange(body: string, suffix: string): number | null {
  let lines = 0;
  for (const line of body.split(/\r?\n/)) {
    const match = /^([0-9A-F]{35}):(\d+)$/i.exec(line.trim());
    if (match === null) continue;
    lines++;
    if ((match[1] as string).toUpperCase() === suffix) return Number(match[2]);
  }
  // A range always has hundreds of entries: an empty answer is a broken proxy, not "clean".
  return lines === 0 ? null : 0;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (error.name === "TimeoutError" || error.name === "AbortError") return "timed out";
    return typeof cause?.code === "string" ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}

/**
 * A client of the range API.
 *
 * @example
 * const hibp = createHibpClient({ baseUrl: "https://api.pwnedpasswords.com" });
 * await hibp.lookup("password"); // → { kind: "breached", count: 52256179 }
 */
export function createHibpClient(options: HibpOptions): BreachCheck {
  const fetchRange: RangeFetch = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? HIBP_TIMEOUT_MS;
  return {
    async lookup(password) {
      const hash = sha1Hex(password);
      const prefix = hash.slice(0, PREFIX_LENGTH);
      try {
        const response = await fetchRange(`${options.baseUrl}/range/${prefix}`, {
          headers: { "Add-Padding": "true", "User-Agent": "deadbolt" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.status !== 200) return { kind: "unavailable", reason: `HTTP ${response.status}` };
        const text = await cappedText(response);
        if (text === null) return { kind: "unavailable", reason: `the answer was larger than ${MAX_RANGE_BYTES} bytes` };
        const count = countInRange(text, hash.slice(PREFIX_LENGTH));
        if (count === null) return { kind: "unavailable", reason: "the answer listed no hashes" };
        return count > 0 ? { kind: "breached", count } : { kind: "not_found" };
      } catch (error) {
        return { kind: "unavailable", reason: describe(error) };
      }
    },
  };
}
