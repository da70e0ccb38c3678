/**
 * One app process using the library: it opens the lockout on LOCKOUT_DATABASE_URL, prints
 * "ready", waits for "go" on stdin (so every process starts its burst together), makes
 * ATTEMPTS concurrent wrong attempts on ACCOUNT and prints the outcomes and how many times
 * its `verify` ran, as one JSON line. With DEVICE_TOKEN, every attempt presents that device token.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createInterface } from "node:readline";
import { createLockout } from "../../src/index.ts";

const lockout = createLockout({ databaseUrl: process.env.LOCKOUT_DATABASE_URL ?? "", policy: { threshold: Number(process.env.THRESHOLD) } });
await lockout.ready();
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === "go") break;

let verifications = 0;
const outcomes = await Promise.all(Array.from({ length: Number(process.env.ATTEMPTS) }, () =>
  lockout.attempt({
    account: process.env.ACCOUNT ?? "",
    // A slow check widens the window in which a read-then-write counter would let extra guesses through.
    verify: async () => { verifications++; await sleep(30); return false; },
    client: { ip: "198.51.100.7", userAgent: "race-child", deviceToken: process.env.DEVICE_TOKEN || null },
  })));
const tally: Record<string, number> = {};
for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1;
process.stdout.write(`${JSON.stringify({ verifications, tally })}\n`);
await lockout.close();
lines.close();
