import { describe, expect, it } from "vitest";
import { pooledRandomBytes } from "../../src/auth/entropy.ts";

describe("pooledRandomBytes", () => {
  it("hands out the sizes asked for, never the same bytes twice, across refills and past the pool's size", () => {
    const random = pooledRandomBytes();
    const seen = new Set<string>();
    // 32-byte tokens across several refills of the 4 KiB pool, with odd sizes between them.
    for (let i = 0; i < 1000; i++) {
      const token = random(32);
      expect(token.length).toBe(32);
      seen.add(token.toString("hex"));
      expect(random(i % 13).length).toBe(i % 13);
    }
    expect(seen.size).toBe(1000);
    const large = random(10_000);
    expect(large.length).toBe(10_000);
    expect(new Set(large).size).toBeGreaterThan(200);
  });

  it("returns copies: changing one changes nothing handed out later", () => {
    const random = pooledRandomBytes();
    const first = random(16);
    first.fill(0);
    const second = random(16);
    expect(second.equals(Buffer.alloc(16))).toBe(false);
  });

  it("gives two pools different bytes, and refuses a size that is not a count", () => {
    expect(pooledRandomBytes()(32).equals(pooledRandomBytes()(32))).toBe(false);
    expect(() => pooledRandomBytes()(-1)).toThrow(RangeError);
    expect(() => pooledRandomBytes()(1.5)).toThrow(RangeError);
  });
});
