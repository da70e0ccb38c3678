import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS, serverEnvironment } from "../../bin/server-flags.js";

const CHILD_SCRIPT = fileURLToPath(new URL("./serve-child.ts", import.meta.url));
/** Generous: on the shared 2-core machine three children starting at once took 35 s. */
const DEFAULT_READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;
/** Output kept for error messages; the rest is dropped so a chatty child never fills memory. */
const KEPT_OUTPUT_CHARS = 64_000;

export interface ServerProcess {
  /** The address the child bound, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** The management listener (/metrics), when started with `management: true`. */
  readonly managementUrl: string | null;
  readonly pid: number;
  /** The child's recent stdout and stderr (pino lines), for diagnosing a failure. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after a grace period. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** DEADBOLT_* variables; inherited DEADBOLT_* variables are dropped so only these apply. */
  readonly env: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  /** Also open the management listener (/metrics) on a free port. Default: none. */
  readonly management?: boolean;
  /**
   * Another server script that follows the same protocol (prints its URL as one stdout line,
   * stops on SIGTERM); the bench's reference server uses it. Default: serve-child.ts.
   */
  readonly script?: string;
}

function childEnv(options: ServerProcessOptions): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("DEADBOLT_")));
  // Never the fixed default 9464: parallel test files would collide on it.
  const env = {
    ...inherited, DEADBOLT_PORT: "0", DEADBOLT_MANAGEMENT_PORT: "0", ...options.env,
    ...(options.management ? { SERVE_CHILD_MANAGEMENT: "ephemeral" } : {}),
  };
  // deadbolt's own thread pool size, as `deadbolt serve` sets it; another script keeps libuv's.
  return options.script ? env : { ...env, ...serverEnvironment(env) };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const exit = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  try {
    await exit;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a deadbolt server in a child process (`process.execPath test/support/serve-child.ts`),
 * on a free port unless `env` says otherwise, and resolves once it listens.
 *
 * @example
 * const server = await startServerProcess({ env: { DEADBOLT_DATABASE_URL: "sqlite:/tmp/x.db" } });
 * await fetch(`${server.url}/healthz`);
 * await server.stop();
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  // serve-child runs with the V8 flags and thread pool that `deadbolt serve` gives itself, so
  // tests and the bench measure the server as it is deployed.
  const args = options.script ? [options.script] : [...SERVER_NODE_FLAGS, CHILD_SCRIPT];
  const child = spawn(process.execPath, args, {
    env: childEnv(options),
    // stdin stays open: the child stops when it closes, i.e. when this process goes away.
    stdio: ["pipe", "pipe", "pipe"],
  });
  let kept = "";
  const keep = (text: string): void => {
    kept = (kept + text).slice(-KEPT_OUTPUT_CHARS);
  };
  child.stderr!.setEncoding("utf8").on("data", keep);
  child.stdout!.setEncoding("utf8");

  let managementUrl: string | null = null;
  const url = await new Promise<string>((resolve, reject) => {
    let pending = "";
    const timer = setTimeout(() => fail(new Error("did not report its URL in time")), options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    function fail(error: Error): void {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      child.off("error", fail);
      child.kill("SIGKILL");
      reject(new Error(`server child process ${child.pid ?? "?"} ${error.message}\n${kept}`));
    }
    function onExit(code: number | null, signal: NodeJS.Signals | null): void {
      fail(new Error(`exited before listening (code ${code ?? "none"}, signal ${signal ?? "none"})`));
    }
    function onData(text: string): void {
      keep(text);
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const management = /^management (https?:\/\/\S+)$/.exec(line.trim());
        if (management) managementUrl = management[1] ?? null;
      }
      const found = lines.map((line) => line.trim()).find((line) => /^https?:\/\/\S+$/.test(line));
      if (found === undefined) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      child.off("error", fail);
      resolve(found);
    }
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", fail);
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout!.on("data", keep);
  child.on("error", (error) => keep(`\nserver-process: ${error.message}\n`));

  let stopped: Promise<void> | null = null;
  return {
    url,
    managementUrl,
    pid: child.pid!,
    output: () => kept,
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
}
