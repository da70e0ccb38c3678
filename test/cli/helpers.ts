import { spawn, type ChildProcess } from "node:child_process";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../src/auth/index.ts";
import type { Io } from "../../src/cli/io.ts";
import { loadConfig } from "../../src/config.ts";
import { createRuntime, type Runtime } from "../../src/runtime.ts";
import { TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";

const BIN = fileURLToPath(new URL("../../bin/deadbolt.js", import.meta.url));

export type Env = Readonly<Record<string, string>>;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The U fields of SPEC, in its order. */
export const USER_FIELDS = [
  "id", "email", "role", "status", "lockedUntil", "lockReason", "disabledReason", "failedPasswordAttempts",
  "failedMfaAttempts", "lockoutCount", "lastFailedAt", "lastFailedIp", "lastLoginAt", "mfaEnabled", "trustedDevices", "createdAt",
] as const;

export const EVENT_FIELDS = ["id", "type", "at", "userId", "email", "ip", "userAgent", "message", "details"] as const;

export const SILENT: Logger = { info() {}, warn() {}, error() {} };

/** The environment of a CLI run against `database`: the test's own DEADBOLT_* variables are dropped. */
export function cliEnv(database: TestDatabase, extra: Env = {}): Env {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] =>
      !entry[0].startsWith("DEADBOLT_") && entry[1] !== undefined),
  );
  return {
    ...inherited,
    DEADBOLT_DATABASE_URL: database.url,
    // Never the fixed default 9464: parallel test files would collide on it.
    DEADBOLT_MANAGEMENT_PORT: "0",
    ...(database.dialect === "postgres" ? { DEADBOLT_SECRET_KEY: TEST_SECRET_KEY } : {}),
    ...extra,
  };
}

/** Runs `node bin/deadbolt.js …` as a child process, writing `input` to its standard input. */
export function runCli(args: readonly string[], options: { env: Env; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

export interface Serving {
  readonly child: ChildProcess;
  /** The public listener's URL, as `deadbolt serve` logs it. */
  readonly url: string;
  readonly exited: Promise<number | null>;
}

/** Starts `node bin/deadbolt.js serve` and resolves once it logs that it listens. */
export async function startServe(env: Env): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: string): void => {
      output += chunk;
      const match = /deadbolt listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${output}`)));
  });
  return { child, url, exited };
}

/** A runtime on the same database and settings, to act as the server would (logins) or inspect. */
export function openRuntime(env: Env, options: { now?: () => number } = {}): Promise<Runtime> {
  return createRuntime(loadConfig(env), { log: SILENT, now: options.now });
}

/** Parses stdout as JSON, failing the test with the CLI's stderr when it is not. */
export function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

/** An in-process Io: stdin is a stream the test writes to, as if typed on a terminal. */
export interface FakeTerminal {
  readonly io: Io;
  readonly input: PassThrough & { setRawMode(raw: boolean): void };
  readonly rawModes: boolean[];
  stdout(): string;
  stderr(): string;
}

export function fakeTerminal(options: { env?: Io["env"]; isTTY?: boolean } = {}): FakeTerminal {
  const rawModes: boolean[] = [];
  const input = Object.assign(new PassThrough(), { setRawMode: (raw: boolean) => { rawModes.push(raw); } });
  let out = "";
  let err = "";
  const io: Io = {
    stdin: input,
    stdout: { write: (text: string) => { out += text; } },
    stderr: { write: (text: string) => { err += text; } },
    env: options.env ?? {},
    isTTY: options.isTTY ?? true,
    waitForShutdown: () => new Promise(() => {}),
  };
  return { io, input, rawModes, stdout: () => out, stderr: () => err };
}
