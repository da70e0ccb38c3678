/**
 * `npm run bench:profile -- [wrong|right|new-device|locked|throttled|reference-wrong|reference-right] [seconds]`: where deadbolt's JavaScript thread
 * spends a login. One deadbolt server process runs under `--cpu-prof` while 32 closed-loop (256 with --instant)
 * clients send one kind of login; the profile's self time is then summed per function and per
 * part of the stack (deadbolt's own code, Kysely, better-sqlite3, Fastify, Node, GC, idle), in
 * ms per answer. The .cpuprofile file stays in the printed directory for Chrome's DevTools.
 * `--statements`: also the time of each SQL statement (bench/sql-timing.ts).
 * `--threads`: no profiler, only each server thread's CPU per answer (the profiler itself costs
 * the JS thread about a third more).
 * `--instant`: both servers answer password checks at once (no argon2), so the load is bound by
 * the event loop and answers/s is the cost of everything around the hashing.
 */
import { hash } from "@node-rs/argon2";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ARGON2_OPTIONS } from "../src/auth/index.ts";
import { startServerProcess } from "../test/support/server-process.ts";
import { prepareDeadbolt, WRONG_PER_USER } from "./deadbolt-setup.ts";
import { runLoad, type LoadResult } from "./load.ts";
import { PASSWORD, scenarios, WRONG_PASSWORD, WRONG_USER_STRIDE, type ScenarioKey } from "./scenarios.ts";
import { threadTimes } from "./cpu.ts";
import { fixed, table } from "./stats.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; endTime: number }

/** The server takes this long to stop after the load ends; its samples are left out. */
const SHUTDOWN_US = 300_000;

const KINDS: Readonly<Record<string, ScenarioKey>> = {
  wrong: "dbWrong", right: "dbRight", locked: "dbLocked", throttled: "dbWrong", "new-device": "dbNewDevice", "reference-wrong": "refWrong", "reference-right": "refRight",
};
const REFERENCE_SCRIPT = fileURLToPath(new URL("./reference-server.ts", import.meta.url));

/** Which part of the stack a frame belongs to, from its script's path. */
function partOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(idle)") return "idle";
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "V8 (program)";
    return `native ${functionName || "(anonymous)"}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node core";
  const own = /\/(src\/[^/]+)\//.exec(url);
  return own ? own[1]! : url;
}

/** Self time per profile node, over the samples of the measured load only (not start-up or warm-up). */
function selfTimes(profile: Profile, seconds: number): Map<number, number> {
  const to = profile.endTime - SHUTDOWN_US;
  const from = to - seconds * 1e6;
  let at = profile.endTime - profile.timeDeltas.reduce((a, b) => a + b, 0);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at < to) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  return selfUs;
}

function summarise(profile: Profile, answers: number, seconds: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = selfTimes(profile, seconds);
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const part = partOf(frame);
    parts.set(part, (parts.get(part) ?? 0) + us);
    const where = frame.url === "" ? "" : ` ${frame.url.replace(/^.*\/(node_modules|src)\//, "$1/")}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || "(anonymous)"}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const rows = (map: Map<string, number>, limit: number): string[][] => [...map.entries()]
    .sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([name, us]) => [name, fixed((100 * us) / total, 1), fixed(us / 1000 / answers, 3)]);
  console.log(`\n${answers} answers; ${fixed(total / 1e6)} s profiled\n`);
  console.log(table([["part", "% of JS thread", "ms/answer"], ...rows(parts, 25)]));
  console.log();
  console.log(table([["function (self time)", "%", "ms/answer"], ...rows(functions, 40)]));
}

const flags = new Set(process.argv.slice(2).filter((arg) => arg.startsWith("--")));
const instant = flags.has("--instant");
const [kind = "wrong", secondsArg = "8"] = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const scenarioKey = KINDS[kind];
if (scenarioKey === undefined) throw new Error(`bench:profile: kind must be one of ${Object.keys(KINDS).join(", ")}`);
const seconds = Number(secondsArg);

const storedHash = await hash(PASSWORD, ARGON2_OPTIONS);
// Failed logins are answered on a 50 ms grid: without argon2 it takes many clients to load the server.
const concurrency = instant ? 256 : 32;
const perSecondCeiling = instant ? 4000 : 250;
const fixture = await prepareDeadbolt({
  storedHash, password: PASSWORD, wrongUsers: Math.ceil((perSecondCeiling * (seconds + 1)) / WRONG_PER_USER) + WRONG_USER_STRIDE + 100, correctUsers: 200,
});
const profileDir = mkdtempSync(join(tmpdir(), "deadbolt-profile-"));
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), "node-compile-cache");
const all = scenarios(fixture);
// Throttled attempts never reach a counter: they may go round the users without end.
let throttledShots = 0;
const scenario = kind === "throttled"
  ? {
      ...all.dbWrong, name: "deadbolt, throttled (429)",
      next: () => ({
        path: "/api/auth/login", expectStatus: 429,
        body: JSON.stringify({ email: fixture.wrongUsers[throttledShots++ % fixture.wrongUsers.length]!.email, password: WRONG_PASSWORD }),
      }),
    }
  : all[scenarioKey];
const SQL_TIMING = fileURLToPath(new URL("./sql-timing.ts", import.meta.url));
const threadsOnly = flags.has("--threads");
const profiling = {
  NODE_OPTIONS: threadsOnly ? "" : `--cpu-prof --cpu-prof-dir=${profileDir}${flags.has("--statements") ? ` --import ${SQL_TIMING}` : ""}`,
  ...(instant ? { SERVE_CHILD_INSTANT_PASSWORD: PASSWORD } : {}),
};
const server = scenario.server === "reference"
  ? await startServerProcess({ env: { BENCH_HASH: storedHash, ...profiling }, script: REFERENCE_SCRIPT })
  // throttled: one failure a minute per client, so nearly every answer is the throttle's 429.
  : await startServerProcess({
    env: { ...fixture.env, ...profiling, ...(kind === "throttled" ? { DEADBOLT_THROTTLE_PER_MINUTE: "1" } : {}) }, management: true,
  });
/** The measured load, and the server's CPU per thread over it. */
async function measured(): Promise<{ result: LoadResult; threads: (readonly [string, number])[] }> {
  try {
    // Warm the JIT before the measured load, as the bench does.
    await runLoad({ baseUrl: server.url, concurrency, warmupMs: 0, durationMs: 1000, next: scenario.next });
    const before = threadTimes(server.pid);
    const result = await runLoad({ baseUrl: server.url, concurrency, warmupMs: 0, durationMs: seconds * 1000, next: scenario.next });
    const after = threadTimes(server.pid);
    const threads = [...after].map(([name, ms]) => [name, ms - (before.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1]);
    return { result, threads };
  } finally {
    await server.stop();
  }
}
const { result, threads } = await measured();
if (flags.has("--statements")) console.log(server.output().split("\n").filter((l) => l.startsWith("STAT")).join("\n"));
const threadTable = table([["thread (CPU, /proc)", "ms/answer"], ...threads.map(([name, ms]) => [name, fixed(ms / result.answered, 3)])]);
if (threadsOnly) {
  console.log(`${scenario.name}: ${fixed(result.perSecond)} answers/s, p50 ${fixed(result.p50Ms)} ms\n${threadTable}`);
  process.exit(0);
}
const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"));
if (file === undefined) throw new Error(`bench:profile: no profile written in ${profileDir}`);
console.log(`${scenario.name}: ${fixed(result.perSecond)} answers/s, p50 ${fixed(result.p50Ms)} ms; profile ${join(profileDir, file)}`);
console.log(threadTable);
// The profile also covers start-up and the warm-up; only the measured load's last seconds count.
summarise(JSON.parse(readFileSync(join(profileDir, file), "utf8")) as Profile, result.answered, seconds);
