/** RFC 4226 / RFC 6238 test vectors and the acceptance window of matchTotp (pure, no storage). */
import { describe, expect, it } from "vitest";
import { hotp, matchTotp, totpStep } from "../../src/auth/index.ts";

const SHA1_SECRET = Buffer.from("12345678901234567890");
const SHA256_SECRET = Buffer.from("12345678901234567890123456789012");
const SHA512_SECRET = Buffer.from("1234567890123456789012345678901234567890123456789012345678901234");

/** RFC 6238 appendix B: time (s), then the 8-digit TOTP for SHA-1, SHA-256, SHA-512. */
const RFC6238: ReadonlyArray<readonly [number, string, string, string]> = [
  [59, "94287082", "46119246", "90693936"],
  [1111111109, "07081804", "68084774", "25091201"],
  [1111111111, "14050471", "67062674", "99943326"],
  [1234567890, "89005924", "91819424", "93441116"],
  [2000000000, "69279037", "90698825", "38618901"],
  [20000000000, "65353130", "77737706", "47863826"],
];

describe("RFC 6238 appendix B", () => {
  it("uses secrets of the lengths the RFC prescribes", () => {
    expect([SHA1_SECRET.length, SHA256_SECRET.length, SHA512_SECRET.length]).toEqual([20, 32, 64]);
  });

  describe.each(RFC6238)("T = %i s", (seconds, sha1, sha256, sha512) => {
    const step = totpStep(seconds * 1000);

    it("has the RFC's time step (T0 = 0, X = 30)", () => {
      expect(step).toBe(Math.floor(seconds / 30));
    });
    it(`SHA-1 → ${sha1}`, () => {
      expect(hotp(SHA1_SECRET, step, { digits: 8, algorithm: "sha1" })).toBe(sha1);
    });
    it(`SHA-256 → ${sha256}`, () => {
      expect(hotp(SHA256_SECRET, step, { digits: 8, algorithm: "sha256" })).toBe(sha256);
    });
    it(`SHA-512 → ${sha512}`, () => {
      expect(hotp(SHA512_SECRET, step, { digits: 8, algorithm: "sha512" })).toBe(sha512);
    });
  });

  it("defaults to SHA-1 with 6 digits (the RFC's last 6 digits)", () => {
    for (const [seconds, sha1] of RFC6238) {
      expect(hotp(SHA1_SECRET, totpStep(seconds * 1000))).toBe(sha1.slice(2));
    }
  });
});

describe("RFC 4226 appendix D (HOTP)", () => {
  const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
  it.each(expected.map((code, counter) => [counter, code] as const))("counter %i → %s", (counter, code) => {
    expect(hotp(SHA1_SECRET, counter)).toBe(code);
  });
});

describe("totpStep", () => {
  it("changes exactly on 30-second boundaries", () => {
    expect(totpStep(0)).toBe(0);
    expect(totpStep(29_999)).toBe(0);
    expect(totpStep(30_000)).toBe(1);
    expect(totpStep(59_999)).toBe(1);
    expect(totpStep(60_000)).toBe(2);
  });
});

describe("matchTotp", () => {
  const secret = Buffer.from("a 20-byte test key!!");
  // Mid-step, so ±15 s of drift stays inside the same step.
  const now = Date.parse("2026-11-22T12:00:15Z");
  const current = totpStep(now);
  const code = (offset: number) => hotp(secret, current + offset);

  it("accepts the current step and one step either side, returning the matched step", () => {
    expect(matchTotp(secret, code(0), now, null)).toBe(current);
    expect(matchTotp(secret, code(-1), now, null)).toBe(current - 1);
    expect(matchTotp(secret, code(1), now, null)).toBe(current + 1);
  });

  it("refuses codes two or more steps away", () => {
    for (const offset of [-3, -2, 2, 3]) {
      // Guard against a coincidental collision with an accepted code.
      if ([-1, 0, 1].some((accepted) => code(accepted) === code(offset))) continue;
      expect(matchTotp(secret, code(offset), now, null), `offset ${offset}`).toBeNull();
    }
  });

  it("accepts a code from the edge of the window at step boundaries", () => {
    const startOfStep = current * 30_000;
    expect(matchTotp(secret, code(-1), startOfStep, null)).toBe(current - 1);
    expect(matchTotp(secret, code(1), startOfStep + 29_999, null)).toBe(current + 1);
    // One millisecond later the window has moved on.
    expect(matchTotp(secret, code(-1), startOfStep + 30_000, null)).toBeNull();
  });

  it("refuses a step at or before the last accepted one", () => {
    expect(matchTotp(secret, code(0), now, current)).toBeNull();
    expect(matchTotp(secret, code(-1), now, current)).toBeNull();
    expect(matchTotp(secret, code(0), now, current + 1)).toBeNull();
    expect(matchTotp(secret, code(1), now, current + 1)).toBeNull();
  });

  it("accepts a step after the last accepted one", () => {
    expect(matchTotp(secret, code(0), now, current - 1)).toBe(current);
    expect(matchTotp(secret, code(1), now, current)).toBe(current + 1);
  });

  it("refuses another secret's code, a wrong code and malformed input", () => {
    const other = Buffer.from("another 20-byte key!");
    const foreign = hotp(other, current);
    if (![-1, 0, 1].some((o) => code(o) === foreign)) expect(matchTotp(secret, foreign, now, null)).toBeNull();
    const wrong = String((Number(code(0)) + 1) % 1_000_000).padStart(6, "0");
    if (![-1, 1].some((o) => code(o) === wrong)) expect(matchTotp(secret, wrong, now, null)).toBeNull();
    expect(matchTotp(secret, "", now, null)).toBeNull();
    expect(matchTotp(secret, `${code(0)}0`, now, null)).toBeNull();
    expect(matchTotp(secret, code(0).slice(1), now, null)).toBeNull();
    expect(matchTotp(secret, hotp(secret, current, { digits: 8 }), now, null)).toBeNull();
  });
});
