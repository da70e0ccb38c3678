/**
 * `npm run bench:import`: `importUsers` of 100,000 users (BENCH_IMPORT_USERS) on SQLite and
 * PostgreSQL, with a second import of the same file (all skipped). Baselines from the same run:
 * validating the file alone, and one argon2id hash (× N = what hashing on import would cost).
 */
import { hash } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { loadavg } from "node:os";
import pino from "pino";
import { ARGON2_OPTIONS, CLI_ACTOR, importUsers, parseImportFile } from "../src/auth/index.ts";
import { loadConfig } from "../src/config.ts";
import { createRuntime } from "../src/runtime.ts";
import { createTestDatabase, TEST_SECRET_KEY } from "../test/support/databases.ts";
import { precomputedHasher } from "./seed.ts";

const USERS = Number(process.env.BENCH_IMPORT_USERS ?? 100_000);

function file(count: number): string {
  const bcryptHash = bcrypt.hashSync("bench password", 10);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(JSON.stringify({ email: `user-${i}@example.com`, passwordHash: bcryptHash, createdAt: "2023-01-02T03:04:05Z" }));
  }
  return `${lines.join("\n")}\n`;
}

/** Wall-clock seconds, and this process's CPU seconds (less distorted by a loaded machine). */
async function seconds<T>(work: () => Promise<T>): Promise<{ s: number; cpu: number; value: T }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { s: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6, value };
}

const text = file(USERS);
const validate = await seconds(async () => parseImportFile(text));
const argon = await seconds(() => hash("one password", ARGON2_OPTIONS));
console.log(`import of ${USERS} users (${(text.length / 1e6).toFixed(1)} MB), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`baseline: validating the file ${validate.s.toFixed(2)} s (${validate.cpu.toFixed(2)} s CPU); one argon2id hash ${(argon.s * 1000).toFixed(0)} ms ` +
  `(hashing every user would take ~${Math.round(argon.s * USERS)} s)`);
for (const dialect of ["sqlite", "postgres"] as const) {
  const database = await createTestDatabase(dialect);
  const config = loadConfig({ DEADBOLT_DATABASE_URL: database.url, DEADBOLT_SECRET_KEY: TEST_SECRET_KEY });
  const runtime = await createRuntime(config, { log: pino({ level: "silent" }), hasher: precomputedHasher("unused") });
  try {
    const first = await seconds(() => importUsers(runtime.auth, text, { dryRun: false, actor: CLI_ACTOR }));
    const again = await seconds(() => importUsers(runtime.auth, text, { dryRun: false, actor: CLI_ACTOR }));
    if (!first.value.ok || first.value.imported !== USERS || !again.value.ok || again.value.skipped !== USERS) {
      throw new Error(`bench: unexpected counts ${JSON.stringify(first.value)} ${JSON.stringify(again.value)}`);
    }
    console.log(`${dialect.padEnd(8)} import ${first.s.toFixed(2)} s, ${first.cpu.toFixed(2)} s CPU in node (${Math.round(USERS / first.s)} users/s, ` +
      `${(first.s / validate.s).toFixed(1)}× validation, ${(first.s / (argon.s * USERS) * 100).toFixed(2)}% of hashing); ` +
      `second import (all skipped) ${again.s.toFixed(2)} s, ${again.cpu.toFixed(2)} s CPU`);
  } finally {
    await runtime.close();
    await database.drop();
  }
}
