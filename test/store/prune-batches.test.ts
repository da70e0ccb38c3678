/**
 * Pruning holds the database for short batches only: on SQLite a DELETE runs on the event
 * loop, so the batch size adapts to BATCH_TARGET_MS (with a clock the test drives).
 */
import { describe, expect, it } from "vitest";
import { BATCH_TARGET_MS, inBatches } from "../../src/store/retention.ts";

/** A table of `rows` rows where deleting costs `msPerRow`, timed by a fake clock. */
function table(rows: number, msPerRow: number) {
  let left = rows;
  let now = 0;
  const limits: number[] = [];
  return {
    limits,
    clock: () => now,
    async deleteBatch(limit: number): Promise<bigint> {
      limits.push(limit);
      const deleted = Math.min(limit, left);
      left -= deleted;
      now += deleted * msPerRow;
      return BigInt(deleted);
    },
  };
}

describe("prune batches", () => {
  it("shrink until a batch fits the target when deleting is slow, and delete everything", async () => {
    // 0.16 ms a row: 500 rows would hold the database 80 ms (a million-user SQLite file).
    const slow = table(5_000, 0.16);
    expect(await inBatches(500, async () => {}, (limit) => slow.deleteBatch(limit), { clock: slow.clock })).toBe(5_000);
    const steady = slow.limits.slice(5, -1);
    expect(steady.length).toBeGreaterThan(10);
    for (const limit of steady) expect(limit * 0.16).toBeLessThanOrEqual(BATCH_TARGET_MS * 2);
  });

  it("grow up to the most allowed when deleting is quick", async () => {
    const quick = table(10_000, 0.001);
    expect(await inBatches(500, async () => {}, (limit) => quick.deleteBatch(limit), { clock: quick.clock })).toBe(10_000);
    expect(Math.max(...quick.limits)).toBe(500);
  });

  it("stay at the maximum without adapting (PostgreSQL: a DELETE does not hold the event loop)", async () => {
    const slow = table(2_000, 0.16);
    expect(await inBatches(500, async () => {}, (limit) => slow.deleteBatch(limit), { adapt: false, clock: slow.clock })).toBe(2_000);
    expect(slow.limits).toEqual([500, 500, 500, 500, 500]);
  });

  it("never exceed a small maximum, and pause between batches only", async () => {
    const small = table(30, 0.001);
    let pauses = 0;
    expect(await inBatches(7, async () => { pauses++; }, (limit) => small.deleteBatch(limit), { clock: small.clock })).toBe(30);
    expect(Math.max(...small.limits)).toBe(7);
    expect(pauses).toBe(small.limits.length - 1);
  });
});
