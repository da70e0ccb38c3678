import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { cliEnv } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/deadbolt.js", import.meta.url));

describe("deadbolt serve", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });

  afterAll(async () => {
    await database.drop();
  });

  it.each(["SIGTERM", "SIGINT"] as const)("serves until %s, then closes and exits 0", async (signal) => {
    const env = cliEnv(database, { DEADBOLT_PORT: "0", DEADBOLT_LOG_LEVEL: "info" });
    const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: string): void => {
        output += chunk;
        const match = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
        if (match) resolve(match[0]);
      };
      child.stdout.setEncoding("utf8").on("data", onData);
      child.stderr.setEncoding("utf8").on("data", onData);
      void exited.then((code) => reject(new Error(`serve exited early (${code}): ${output}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill(signal);
    expect(await exited).toBe(0);
  });
});
