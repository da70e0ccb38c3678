/**
 * The flood scenario of `npm run bench`: untrusted clients from many loopback addresses send
 * wrong passwords at 10× the machine's verification capacity while a few legitimate users sign
 * in, with and without a trusted device. Reported as ratios to the same logins measured idle
 * in the same run. Bounded: BENCH_FLOOD_SECONDS of flood (10), at most 10 × capacity × seconds
 * requests, and a deadline for the answers still in flight. The flood is sent from a worker
 * thread (flood-generator.ts), so its event loop is not the legitimate users', through a lean
 * HTTP client (flood-wire.ts) that takes little of the cores it shares with the server.
 */
import http from "node:http";
import { rmSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { loadavg } from "node:os";
import { startServerProcess } from "../test/support/server-process.ts";
import { prepareDeadbolt } from "./deadbolt-setup.ts";
import { login } from "./flood-client.ts";
import type { FloodDone, FloodInput, FloodMessage } from "./flood-generator.ts";
import { verifications } from "./load.ts";
import { PASSWORD, WRONG_PASSWORD } from "./scenarios.ts";
import { fixed, percentile, table } from "./stats.ts";

const ADDRESSES = 50;
const LEGIT_USERS = 4;
const IDLE_LOGINS = 20;
const DRAIN_DEADLINE_MS = 30_000;
const MAX_IN_FLIGHT = 2000;

interface LegitUser {
  readonly email: string;
  readonly deviceToken: string | null;
}

/** Sequential correct logins, one user after another; returns latencies of 200 answers (others counted). */
async function legitLogins(agent: http.Agent, base: URL, users: readonly LegitUser[], count: number, trusted: boolean,
  until: () => boolean = () => false): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < count && !until(); i++) {
    const user = users[i % users.length]!;
    const body: Record<string, string> = { email: user.email, password: PASSWORD };
    if (trusted && user.deviceToken) body.deviceToken = user.deviceToken;
    const answer = await login(agent, base, body);
    if (answer.status === 200) ms.push(answer.ms);
    else failed += 1;
  }
  return { ms, failed };
}

function p(values: readonly number[], q: number): number {
  return values.length === 0 ? Number.NaN : percentile(values, q);
}

/** One line per legitimate kind: idle and flood percentiles and their ratios. */
function ratioRow(name: string, idle: readonly number[], flood: readonly number[], failed: number): string[] {
  return [name, fixed(p(idle, 50)), fixed(p(idle, 95)), fixed(p(flood, 50)), fixed(p(flood, 95)),
    fixed(p(flood, 50) / p(idle, 50), 2), fixed(p(flood, 95) / p(idle, 95), 2), `${flood.length}/${failed}`];
}

/**
 * e. The flood. `capacity` is argon2 verifications per second measured in-process (section a);
 * the flood offers 10 × capacity requests per second, round-robin over 127.0.0.2… .
 */
export async function floodScenario(storedHash: string, capacity: number): Promise<void> {
  const seconds = Number(process.env.BENCH_FLOOD_SECONDS ?? 10);
  // By default the addresses together may start about 5 s of verifications a minute.
  const perMinute = Number(process.env.BENCH_FLOOD_PER_MINUTE ?? Math.max(2, Math.floor((capacity * 5) / ADDRESSES)));
  const rate = 10 * capacity;
  const fixture = await prepareDeadbolt({ storedHash, password: PASSWORD, wrongUsers: 200, correctUsers: 2 * LEGIT_USERS });
  const server = await startServerProcess({ env: { ...fixture.env, DEADBOLT_THROTTLE_PER_MINUTE: String(perMinute) }, management: true });
  const metricsUrl = server.managementUrl!;
  const base = new URL(server.url);
  // Each kind of legitimate user signs in from an address of its own, away from the flood's.
  const legitAgent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: "127.0.1.1" } as http.AgentOptions);
  const untrustedAgent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: "127.0.1.2" } as http.AgentOptions);
  try {
    const emails = fixture.correctUsers.map((u) => u.email);
    // Each trusted user signs in once so its client becomes a trusted device.
    const trusted: LegitUser[] = [];
    for (const email of emails.slice(0, LEGIT_USERS)) {
      const first = await login(legitAgent, base, { email, password: PASSWORD });
      trusted.push({ email, deviceToken: first.deviceToken ?? null });
    }
    const untrusted: LegitUser[] = emails.slice(LEGIT_USERS).map((email) => ({ email, deviceToken: null }));
    const devices = trusted.every((u) => u.deviceToken !== null);

    const idleTrusted = await legitLogins(legitAgent, base, trusted, IDLE_LOGINS, true);
    const idleUntrusted = await legitLogins(untrustedAgent, base, untrusted, IDLE_LOGINS, false);

    const before = (await verifications(metricsUrl, "real")) + (await verifications(metricsUrl, "dummy"));
    // The flood runs in a worker thread: its event loop is busy sending, and the legitimate
    // users' timings must not include waiting for it (a real attacker's loop is not theirs).
    const input: FloodInput = {
      url: server.url, rate, seconds, addresses: ADDRESSES, maxInFlight: MAX_IN_FLIGHT, drainMs: DRAIN_DEADLINE_MS,
      targets: fixture.wrongUsers.map((u) => u.email), password: WRONG_PASSWORD,
    };
    const worker = new Worker(new URL("./flood-generator.ts", import.meta.url), { workerData: input });
    const messages: FloodMessage[] = [];
    const waiters: (() => void)[] = [];
    worker.on("message", (message: FloodMessage) => {
      messages.push(message);
      for (const wake of waiters.splice(0)) wake();
    });
    const failed = new Promise<never>((_, reject) => worker.once("error", reject));
    const next = async <K extends FloodMessage["kind"]>(kind: K): Promise<Extract<FloodMessage, { kind: K }>> => {
      for (;;) {
        const found = messages.find((m) => m.kind === kind);
        if (found) return found as Extract<FloodMessage, { kind: K }>;
        await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), failed]);
      }
    };
    const { startedAt } = await next("started");
    const floodEnds = performance.now() + seconds * 1000 - (Date.now() - startedAt);
    // The legitimate users start once the flood is established, and stop when it ends.
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, seconds * 100)));
    const floodOver = () => performance.now() >= floodEnds;
    const [underTrusted, underUntrusted] = await Promise.all([
      legitLogins(legitAgent, base, trusted, 10_000, true, floodOver),
      legitLogins(untrustedAgent, base, untrusted, 10_000, false, floodOver),
    ]);
    const { floodSeconds } = await next("sent");
    const after = (await verifications(metricsUrl, "real")) + (await verifications(metricsUrl, "dummy"));
    const done: FloodDone = await next("done");
    await worker.terminate();
    const { sent, skipped, other, refused, busy, admittedMs, drained } = done;

    console.log(`\ne. flood: ${ADDRESSES} untrusted clients (127.0.0.2–127.0.0.${ADDRESSES + 1}) send wrong passwords at ` +
      `${fixed(rate)} req/s (10 × ${fixed(capacity)} verifications/s, section a) for ${seconds} s; ` +
      `DEADBOLT_THROTTLE_PER_MINUTE=${perMinute}; ${LEGIT_USERS} trusted + ${LEGIT_USERS} untrusted legitimate users sign in one at a time`);
    if (!devices) {
      console.log("  the server answered no deviceToken: trusted devices are not in this build, so the \"trusted\" row is a plain login");
    }
    console.log(table([
      ["correct login (ms)", "idle p50", "idle p95", "flood p50", "flood p95", "p50 ×", "p95 ×", "ok/failed"],
      ratioRow("trusted device", idleTrusted.ms, underTrusted.ms, underTrusted.failed),
      ratioRow("untrusted client", idleUntrusted.ms, underUntrusted.ms, underUntrusted.failed),
    ]));
    const answered = refused.length + admittedMs.length + other;
    console.log(table([
      ["flood sent", "answered", "answered 429", "of which busy", "share 429", "429 p50 ms", "429 p95 ms", "401 p95 ms", "verifications/s"],
      [String(sent), String(answered), String(refused.length), String(busy), `${fixed((100 * refused.length) / Math.max(1, answered))} %`,
        fixed(p(refused, 50), 2), fixed(p(refused, 95), 2), fixed(p(admittedMs, 95)), fixed((after - before) / floodSeconds)],
    ]));
    console.log("  busy = 429 because the untrusted hashing queue was full (never counted, never verified); " +
      "the other 429s come from the per-client throttle.");
    console.log(`  targets: trusted p95 × ≤ 2; 429 p95 < 5 ms (a throttled request costs no argon2). ` +
      `${skipped} requests not sent (over ${MAX_IN_FLIGHT} in flight), ${other} other answers` +
      `${drained ? "" : `; answers still outstanding after ${DRAIN_DEADLINE_MS / 1000} s`}; ` +
      `1-min load average ${fixed(loadavg()[0] ?? Number.NaN, 2)}`);
  } finally {
    legitAgent.destroy();
    untrustedAgent.destroy();
    await server.stop();
    rmSync(fixture.dir, { recursive: true, force: true });
  }
}
