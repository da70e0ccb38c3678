import { readdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * The nice value of libuv's pool threads, where argon2 runs: CFS then gives the event loop
 * (nice 0) about 80 % of a core it shares with hashing threads, instead of a fifth when four
 * of them compete with it on two cores. Hashing still takes every cycle the event loop leaves.
 */
export const HASHING_NICENESS = 10;

/**
 * Lowers the scheduling priority of the process's libuv pool threads ("libuv-worker") on
 * Linux, where a thread id can be given to setpriority; elsewhere it does nothing. The event
 * loop answers what needs no hashing (a throttled or busy 429, a page, the metrics) at once
 * even while every core hashes, and a flood of guesses cannot slow those answers down.
 * Returns how many threads it lowered. Call once the pool exists (after a first hash).
 */
export function lowerHashingPriority(niceness = HASHING_NICENESS): number {
  if (process.platform !== "linux") return 0;
  let lowered = 0;
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return 0;
  }
  for (const task of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${task}/comm`, "utf8").trim() !== "libuv-worker") continue;
      setPriority(Number(task), niceness);
      lowered += 1;
    } catch {
      // The thread went, or the system refuses: hashing keeps the event loop's priority.
    }
  }
  return lowered;
}
