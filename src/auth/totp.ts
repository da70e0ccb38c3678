import { createHmac, timingSafeEqual } from "node:crypto";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now, for clock drift (RFC 6238 §5.2 recommends at most one). */
export const TOTP_WINDOW = 1;

export type TotpAlgorithm = "sha1" | "sha256" | "sha512";

/** The RFC 6238 time step of an epoch-millisecond time. */
export function totpStep(nowMs: number, periodSeconds = TOTP_PERIOD_SECONDS): number {
  return Math.floor(nowMs / 1000 / periodSeconds);
}

/**
 * HOTP (RFC 4226) of `counter`, the code TOTP uses for a time step. Pure: the step is an input.
 *
 * @example hotp(Buffer.from("12345678901234567890"), 1, { digits: 8 }) // "94287082"
 */
export function hotp(
  secret: Buffer, counter: number, options: { digits?: number; algorithm?: TotpAlgorithm } = {},
): string {
  const digits = options.digits ?? TOTP_DIGITS;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(options.algorithm ?? "sha1", secret).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

function sameCode(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The time step whose code matches `code` within ±TOTP_WINDOW of `nowMs` and is after
 * `lastStep`, or null. Every candidate is compared, in constant time, so timing reveals nothing.
 */
export function matchTotp(secret: Buffer, code: string, nowMs: number, lastStep: number | null): number | null {
  const current = totpStep(nowMs);
  let matched: number | null = null;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const ok = sameCode(hotp(secret, step), code);
    if (ok && matched === null && (lastStep === null || step > lastStep)) matched = step;
  }
  return matched;
}
