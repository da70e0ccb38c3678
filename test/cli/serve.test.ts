import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, serverEnvironment } from "../../bin/server-flags.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { cliEnv, startServe } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/deadbolt.js", import.meta.url));

/** The process's environment as the kernel has it (after any re-exec). */
function environment(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
}

/** libuv's pool threads (the pool starts with the server's first hash, before it listens). */
function poolThreads(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).filter((task) => readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim() === "libuv-worker").length;
}

/** The process's own command line as the kernel has it (after any re-exec). */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

describe("deadbolt serve", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });

  afterAll(async () => {
    await database.drop();
  });

  const serve = (extra: Record<string, string> = {}) =>
    startServe(cliEnv(database, { DEADBOLT_PORT: "0", DEADBOLT_MANAGEMENT_PORT: "0", DEADBOLT_LOG_LEVEL: "info", ...extra }));

  it.each(["SIGTERM", "SIGINT"] as const)("serves until %s, then closes and exits 0", async (signal) => {
    const { child, url, exited } = await serve();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill(signal);
    expect(await exited).toBe(0);
  });

  it.runIf(process.platform === "linux")("re-executes itself, same PID, with the young generation capped", async () => {
    const { child, url, exited } = await serve();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const args = commandLine(child.pid!);
    expect(args.slice(1, 1 + SERVER_NODE_FLAGS.length)).toEqual(SERVER_NODE_FLAGS);
    expect(args.slice(-2)).toEqual([BIN, "serve"]);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it.runIf(process.platform === "linux")("sizes libuv's thread pool, where argon2 runs, to the cores", async () => {
    const { child, url, exited } = await serve({ UV_THREADPOOL_SIZE: "" });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(environment(child.pid!)).toContain(`UV_THREADPOOL_SIZE=${availableParallelism()}`);
    expect(poolThreads(child.pid!)).toBe(availableParallelism());
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it.runIf(process.platform === "linux")("keeps a pool size the operator set", async () => {
    const size = availableParallelism() + 1;
    const { child, url, exited } = await serve({ UV_THREADPOOL_SIZE: String(size) });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(poolThreads(child.pid!)).toBe(size);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("leaves the environment alone where the operator set a pool size", () => {
    expect(serverEnvironment({ UV_THREADPOOL_SIZE: "6" })).toEqual({});
    expect(serverEnvironment({})).toEqual({ UV_THREADPOOL_SIZE: String(availableParallelism()) });
    expect(serverEnvironment({ UV_THREADPOOL_SIZE: "" })).toEqual({ UV_THREADPOOL_SIZE: String(availableParallelism()) });
  });

  it.runIf(process.platform === "linux")("keeps a size the operator set in NODE_OPTIONS", async () => {
    const { child, url, exited } = await serve({ NODE_OPTIONS: "--max-semi-space-size=32" });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(commandLine(child.pid!)).toEqual([process.execPath, BIN, "serve"]);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
