/**
 * `npm install` runs scripts/warm-compile-cache.ts (prepare): the very first `deadbolt serve`
 * after it finds every module compiled, so Node never loads its TypeScript stripper, whose
 * WebAssembly memory would stay resident for the server's life.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { cliEnv, startServe } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WARM = join(ROOT, "scripts/warm-compile-cache.ts");

describe("warm compile cache", () => {
  let database: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    dir = mkdtempSync(join(tmpdir(), "deadbolt-warm-"));
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `deadbolt serve` with this compile cache; answers whether it loaded the TypeScript stripper. */
  async function serveLoadsStripper(cache: string): Promise<boolean> {
    const report = join(dir, `report-${Math.random().toString(36).slice(2)}.txt`);
    const preload = join(dir, "report.mjs");
    writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(process.env.REPORT_FILE,
      process.moduleLoadList.some((m) => m.includes("amaro")) ? "stripper" : "none"));
      import { createRequire } from "node:module"; const require = createRequire(import.meta.url);`);
    const env = cliEnv(database, {
      DEADBOLT_PORT: "0", DEADBOLT_MANAGEMENT_PORT: "0", DEADBOLT_LOG_LEVEL: "info",
      NODE_COMPILE_CACHE: cache, NODE_OPTIONS: `--import=${preload}`, REPORT_FILE: report,
    });
    const { child, exited } = await startServe(env);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    return readFileSync(report, "utf8") === "stripper";
  }

  it("leaves nothing for the first start to strip; without it the first start loads the stripper", async () => {
    const cold = join(dir, "cold");
    expect(await serveLoadsStripper(cold)).toBe(true);

    const warm = join(dir, "warm");
    execFileSync(process.execPath, [WARM], { env: { ...process.env, NODE_COMPILE_CACHE: warm }, stdio: "pipe" });
    expect(await serveLoadsStripper(warm)).toBe(false);
  }, 60_000);
});
