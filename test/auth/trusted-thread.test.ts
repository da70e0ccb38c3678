/**
 * During a flood, trusted devices' checks run on a thread of their own at the event loop's
 * priority, not on libuv's pool at nice 10 (src/auth/trusted-thread.ts); the thread starts with
 * the flood and ends after a quiet spell.
 */
import { hash } from "@node-rs/argon2";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, getPriority } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ARGON2_OPTIONS, createArgon2Hasher } from "../../src/auth/index.ts";
import { untrustedFloodAt } from "../../src/auth/password.ts";
import { createTrustedThread, type TrustedThread } from "../../src/auth/trusted-thread.ts";

function threadsNamed(name: string): Set<number> {
  return new Set(readdirSync("/proc/self/task").map(Number).filter((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, "utf8").trim() === name;
    } catch {
      return false;
    }
  }));
}

describe("trusted verification thread", () => {
  const threads: TrustedThread[] = [];
  afterEach(async () => {
    for (const thread of threads.splice(0)) await thread.stop();
  });

  it("verifies argon2 hashes off the pool, false for a wrong password or a corrupt hash, and ends when idle", async () => {
    const stored = await hash("right password", ARGON2_OPTIONS);
    const thread = createTrustedThread({ idleMs: 150 });
    threads.push(thread);
    expect(thread.running()).toBe(false);
    const before = process.platform === "linux" ? threadsNamed("WorkerThread") : new Set<number>();
    expect(await thread.verify(stored, "right password")).toBe(true);
    expect(thread.running()).toBe(true);
    if (process.platform === "linux") {
      // Its own thread, at the event loop's priority while the pool is lowered.
      const added = [...threadsNamed("WorkerThread")].filter((task) => !before.has(task));
      expect(added).toHaveLength(1);
      expect(getPriority(added[0]!)).toBe(getPriority(process.pid));
    }
    expect(await Promise.all([thread.verify(stored, "wrong password"), thread.verify("$argon2id$v=19$garbage", "x")])).toEqual([false, false]);
    await sleep(400);
    expect(thread.running()).toBe(false);
    // The next check starts another.
    expect(await thread.verify(stored, "right password")).toBe(true);
    expect(thread.running()).toBe(true);
  });

  it("rejects the checks in flight when stopped, so the hasher can verify them elsewhere", async () => {
    const stored = await hash("right password", ARGON2_OPTIONS);
    const thread = createTrustedThread();
    threads.push(thread);
    const pending = thread.verify(stored, "right password");
    await thread.stop();
    await expect(pending).rejects.toThrow();
  });

  it("is used by the hasher for trusted checks only while untrusted ones wait in flood numbers", async () => {
    const calls: string[] = [];
    let started = false;
    const recorder: TrustedThread = {
      async verify(_hash, password) {
        started = true;
        calls.push(password);
        return password === "right password";
      },
      running: () => started,
      async stop() { started = false; },
    };
    const hasher = await createArgon2Hasher({ concurrency: 3, trustedThread: recorder });
    const stored = await hash("right password", ARGON2_OPTIONS);
    // No flood: the pool verifies, the thread is never started.
    expect(await hasher.verify(stored, "right password", { lane: "trusted" })).toBe(true);
    expect(calls).toEqual([]);
    // A flood: untrusted checks queue beyond the flood mark (the gate allows 3 at once).
    const flood = Array.from({ length: untrustedFloodAt(Math.min(3, availableParallelism())) + 8 }, () => hasher.dummyVerify("guess"));
    // The thread was started (warmed up) as the flood began, before any trusted check.
    expect(calls.length).toBeGreaterThanOrEqual(1);
    const warmUps = calls.length;
    expect(await hasher.verify(stored, "right password", { lane: "trusted" })).toBe(true);
    expect(await hasher.verify(stored, "wrong password", { lane: "trusted" })).toBe(false);
    expect(calls.slice(warmUps)).toEqual(["right password", "wrong password"]);
    // Untrusted checks never go to the thread.
    await Promise.all(flood);
    expect(calls.length).toBe(warmUps + 2);
  }, 60_000);
});
