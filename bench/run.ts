/**
 * `npm run bench`: what deadbolt costs on top of the argon2 verification it cannot avoid.
 * Everything is measured in one run on this machine and reported as ratios against baselines
 * of the same run; nothing is asserted.
 *
 * Knobs (environment): BENCH_ROUNDS (5), BENCH_SECONDS per measurement (2), BENCH_CONCURRENCY
 * (32 HTTP clients), BENCH_BOOKKEEPING_ATTEMPTS (2000 per path), BENCH_FLOOD_SECONDS (10) and
 * BENCH_FLOOD_PER_MINUTE (the flood server's DEADBOLT_THROTTLE_PER_MINUTE; default: 5 s of verifications a
 * minute over the 50 addresses), DEADBOLT_TEST_PG_URL;
 * BENCH_ONLY=flood runs sections a and e only, BENCH_ONLY=throughput sections a to c.
 */
import { hash, verify } from "@node-rs/argon2";
import { readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { serverEnvironment } from "../bin/server-flags.js";
import { ARGON2_OPTIONS } from "../src/auth/index.ts";
import { createTestDatabase } from "../test/support/databases.ts";
import { startServerProcess } from "../test/support/server-process.ts";
import { measureBookkeeping, type BookkeepingResult } from "./bookkeeping.ts";
import { prepareDeadbolt, THRESHOLD, WRONG_PER_USER } from "./deadbolt-setup.ts";
import { floodScenario } from "./flood.ts";
import { runLoad } from "./load.ts";
import { bookkeepingTable, cpuTable, roundsTable, TARGET_RATIO, throughputTable, type Runs } from "./report.ts";
import { measure, PASSWORD, scenarios, WRONG_PASSWORD, WRONG_USER_STRIDE, type LoadShape, type ScenarioKey } from "./scenarios.ts";
import { fixed, median, table } from "./stats.ts";

function knob(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const ROUNDS = Math.round(knob("BENCH_ROUNDS", 5));
const SHAPE: LoadShape = {
  concurrency: Math.round(knob("BENCH_CONCURRENCY", 32)),
  warmupMs: 300,
  durationMs: knob("BENCH_SECONDS", 2) * 1000,
};
const BOOKKEEPING_ATTEMPTS = Math.round(knob("BENCH_BOOKKEEPING_ATTEMPTS", 2000));
/** Per path and database, so a slow database cannot stretch the bench much past two minutes. */
const BOOKKEEPING_MAX_MS = 5_000;
const RAW_MS = 2000;
/** Reference and deadbolt alternate within every round. */
const ORDER: readonly ScenarioKey[] = ["refWrong", "dbWrong", "refRight", "dbRight", "dbLocked", "poolWrong", "poolRight"];
const REFERENCE_SCRIPT = fileURLToPath(new URL("./reference-server.ts", import.meta.url));

/** The thread pool size deadbolt's server runs with here: the operator's, or the one `deadbolt serve` chooses. */
function deadboltPoolSize(): string {
  return serverEnvironment().UV_THREADPOOL_SIZE ?? process.env.UV_THREADPOOL_SIZE!;
}

/** argon2id verifications per second with `concurrency` in flight (on the libuv thread pool). */
async function rawArgon2(storedHash: string, concurrency: number): Promise<number> {
  const until = performance.now() + RAW_MS;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      await verify(storedHash, WRONG_PASSWORD);
      done += 1;
    }
  }));
  return done / (RAW_MS / 1000);
}

/** Resident memory of a process (Linux /proc), MB; NaN elsewhere. */
function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Other work on the machine skews throughput; say how busy it was. */
function loadAverage(): string {
  const [one] = loadavg();
  const busy = (one ?? 0) > availableParallelism() * 0.5 ? " (busy machine: expect noisy throughput rounds)" : "";
  return `1-min load average ${fixed(one ?? Number.NaN, 2)}${busy}`;
}

async function bookkeepingOn(dialect: "sqlite" | "postgres", storedHash: string): Promise<BookkeepingResult[] | string> {
  let database;
  try {
    database = await createTestDatabase(dialect);
  } catch (error) {
    return `database unavailable (${error instanceof Error ? error.message : String(error)})`;
  }
  try {
    return await measureBookkeeping(database.url,
      { attempts: BOOKKEEPING_ATTEMPTS, maxMs: BOOKKEEPING_MAX_MS, storedHash, password: PASSWORD });
  } finally {
    await database.drop();
  }
}

/** b and c: the reference and deadbolt servers, each in its own process, in alternating rounds. */
async function httpRounds(storedHash: string, rawPerSecond: number): Promise<void> {
  // Enough never-locking users for every wrong attempt the rounds can make, even if the machine
  // gets much faster than during the raw measurement (another job finished).
  const phaseSeconds = (SHAPE.warmupMs + SHAPE.durationMs) / 1000 + 1;
  const ceiling = 2 * Math.max(rawPerSecond, 100 * availableParallelism());
  const wrongUsers = Math.ceil((ceiling * ROUNDS * phaseSeconds) / WRONG_PER_USER) + WRONG_USER_STRIDE + 100;
  const fixture = await prepareDeadbolt({ storedHash, password: PASSWORD, wrongUsers, correctUsers: 200 });
  // As bin/deadbolt.js does (enableCompileCache): the servers start from Node's compile cache.
  process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), "node-compile-cache");
  const started = await Promise.allSettled([
    startServerProcess({ env: { BENCH_HASH: storedHash }, script: REFERENCE_SCRIPT }),
    startServerProcess({ env: { BENCH_HASH: storedHash, UV_THREADPOOL_SIZE: deadboltPoolSize() }, script: REFERENCE_SCRIPT }),
    startServerProcess({ env: fixture.env, management: true }),
  ]);
  const [reference, referencePool, deadbolt] = started.map((s) => (s.status === "fulfilled" ? s.value : null));
  try {
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    const servers = { reference: reference!, referencePool: referencePool!, deadbolt: deadbolt! };
    const all = scenarios(fixture);
    await sleep(2000);
    const idleRss = rssMb(servers.deadbolt.pid);
    let loadedRss = idleRss;
    // One untimed pass so both processes have compiled their hot paths.
    for (const key of ["refWrong", "dbRight"] as const) {
      await runLoad({ baseUrl: servers[all[key].server].url, ...SHAPE, warmupMs: 0, durationMs: 500, next: all[key].next });
    }
    const runs: Runs = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const key of ORDER) {
        (runs[key] ??= []).push(await measure(all[key], servers, SHAPE));
        loadedRss = Math.max(loadedRss, rssMb(servers.deadbolt.pid));
      }
    }
    const oneUser = await measure(all.dbOneUser, servers, SHAPE);
    const newDevice = await measure(all.dbNewDevice, servers, SHAPE);

    console.log(`\nb/c. HTTP answers per second, median of ${ROUNDS} alternating rounds ` +
      "(reference = bare Fastify + @node-rs/argon2 child process; deadbolt = serve-child on SQLite)");
    console.log(throughputTable(runs, oneUser));
    console.log(`  ratio = median deadbolt ÷ median reference; paired = median of per-round ratios. Target ≥ ${TARGET_RATIO}.`);
    console.log(`  same pool: against the reference run with deadbolt's UV_THREADPOOL_SIZE=${deadboltPoolSize()} (bin/server-flags.js) ` +
      "instead of libuv's 4: what deadbolt costs around the hashing alone.");
    const refRight = median((runs.refRight ?? []).map((r) => r.perSecond));
    console.log("  correct password = a returning client that sends its deviceToken back. From a new device each time " +
      `(a new-device notice queued per sign-in, 1 run): ${fixed(newDevice.perSecond)}/s, ` +
      `${fixed(newDevice.perSecond / refRight, 3)} of the reference.`);
    console.log("\n  server CPU per answer (ms, Linux /proc, median of rounds): the ratio a CPU-bound server reaches, " +
      "steady even when other work shares the machine");
    console.log(cpuTable(runs));
    console.log("  ratio = reference CPU ÷ deadbolt CPU. JS thread = the event loop alone (argon2 runs on the libuv " +
      "pool); extra = deadbolt's additional JS-thread CPU per answer.");
    console.log([
      `\n  wrong password: spread over ${fixture.wrongUsers.length} users at threshold ${THRESHOLD}, at most ` +
        `${WRONG_PER_USER} failures each, taken in turns over ${WRONG_USER_STRIDE} users (the attempts in flight are on ` +
        "different accounts), so no account locks and every attempt reserves a slot and runs a real " +
        "verification (argon2/answer from deadbolt's /metrics).",
      "  Failed logins are answered on deadbolt's 50 ms timing grid; with this many clients answers queue behind " +
        "the CPU (p50 far above 50 ms), so the grid does not limit throughput.",
      "  locked account: refused without touching the stored hash, after a dummy verification of the same cost; " +
        "compared with the reference's wrong-password rate.",
      `  correct, one user: all ${SHAPE.concurrency} clients on one account, at most ${THRESHOLD} checks in flight, ` +
        "surplus attempts wait and poll for a slot; informational, no target.",
    ].join("\n"));
    console.log(`\n  deadbolt server RSS: ${fixed(idleRss)} MB idle (2 s after start), ${fixed(loadedRss)} MB loaded ` +
      `(largest after a measurement). Targets ≤ 120 and ≤ 250 MB.`);
    console.log("\n  answers per second in each round, in the order measured:");
    console.log(roundsTable(runs, ORDER, ROUNDS));
  } finally {
    await Promise.all([reference?.stop(), referencePool?.stop(), deadbolt?.stop()]);
    rmSync(fixture.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(`deadbolt bench: Node ${process.version}, ${availableParallelism()} × ${cpu}, ` +
    `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? "4 (default)"} (deadbolt's server: ${deadboltPoolSize()}); ${loadAverage()}`);
  console.log(`argon2id m=${ARGON2_OPTIONS.memoryCost} KiB t=${ARGON2_OPTIONS.timeCost} p=${ARGON2_OPTIONS.parallelism} ` +
    `(src/auth/password.ts ARGON2_OPTIONS); ${ROUNDS} rounds × ${SHAPE.durationMs / 1000} s ` +
    `(+${SHAPE.warmupMs} ms warm-up), ${SHAPE.concurrency} concurrent HTTP clients\n`);
  const storedHash = await hash(PASSWORD, ARGON2_OPTIONS);

  // a. The ceiling: argon2 alone, in this process, before any server runs.
  const saturating = Math.max(4, 2 * availableParallelism());
  const rawOne = await rawArgon2(storedHash, 1);
  const rawMany = await rawArgon2(storedHash, saturating);
  console.log("a. raw argon2id verify, in-process (context)");
  console.log(table([["concurrency", "verifies/s", "ms each"],
    ["1", fixed(rawOne), fixed(1000 / rawOne)], [String(saturating), fixed(rawMany), ""]]));

  const onlyFlood = process.env.BENCH_ONLY === "flood";
  if (!onlyFlood) await httpRounds(storedHash, rawMany);
  // e. Trusted devices and throttling under a flood of guesses.
  if (process.env.BENCH_ONLY !== "throughput") await floodScenario(storedHash, rawMany);
  if (onlyFlood || process.env.BENCH_ONLY === "throughput") {
    console.log(`
done in ${fixed((performance.now() - startedAt) / 1000)} s; ${loadAverage()}`);
    return;
  }

  // d. With the servers stopped.
  const sqlite = await bookkeepingOn("sqlite", storedHash);
  const postgres = await bookkeepingOn("postgres", storedHash);
  console.log("\nd. lockout bookkeeping per attempt (ms): in-process guardSecret with an instant verify, one attempt at a time");
  console.log(bookkeepingTable([{ database: "SQLite", results: sqlite }, { database: "PostgreSQL", results: postgres }]));
  console.log("  reserve = read the user + slot compare-and-set; record = re-read + compare-and-set transaction with " +
    `its event. Threshold ${THRESHOLD}, at most ${WRONG_PER_USER} failures per user (never locks); the success path ` +
    "also resets the counters and records login.succeeded.");
  console.log(`\ndone in ${fixed((performance.now() - startedAt) / 1000)} s; ${loadAverage()}`);
}

const scaleAt = process.argv.indexOf("--scale");
if (scaleAt >= 0) {
  const { runScale } = await import("./scale.ts");
  await runScale(Math.max(1000, Math.round(Number(process.argv[scaleAt + 1] ?? 1_000_000))));
} else {
  await main();
}
