/**
 * argon2 runs on libuv's pool threads at a lower scheduling priority than the event loop, so
 * answers that need no hashing are not held up by a flood of verifications (Linux only).
 */
import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { createArgon2Hasher, HASHING_NICENESS } from "../../src/auth/index.ts";

function threadsNamed(name: string): number[] {
  return readdirSync("/proc/self/task").map(Number)
    .filter((task) => readFileSync(`/proc/self/task/${task}/comm`, "utf8").trim() === name);
}

describe.skipIf(process.platform !== "linux")("hashing priority", () => {
  it("lowers libuv's pool threads once the hasher exists, and leaves the event loop as it was", async () => {
    const mainBefore = getPriority(process.pid);
    await createArgon2Hasher();
    const pool = threadsNamed("libuv-worker");
    expect(pool.length).toBeGreaterThan(0);
    for (const thread of pool) expect(getPriority(thread)).toBe(HASHING_NICENESS);
    expect(getPriority(process.pid)).toBe(mainBefore);
  });
});
