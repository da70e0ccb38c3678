/**
 * A deadbolt server in its own process, for tests and the bench: configuration from the
 * environment, then the bound URL as one line on stdout. It does not depend on the CLI.
 *
 * It stops on SIGTERM or SIGINT, and also when its stdin closes, so that a parent which dies
 * without cleaning up never leaves a server behind.
 */
import type { Hasher } from "../../src/auth/index.ts";
import { loadConfig } from "../../src/config.ts";
import { startServer, type RunningServer } from "../../src/server.ts";

/**
 * SERVE_CHILD_INSTANT_PASSWORD (the bench's profile): a hasher that answers at once, true for
 * that password only, so what is measured is deadbolt's own work around the hashing.
 */
function benchHasher(): Hasher | undefined {
  const password = process.env.SERVE_CHILD_INSTANT_PASSWORD;
  if (password === undefined) return undefined;
  const soon = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return {
    hash: async () => { throw new Error("serve-child: the instant hasher does not hash"); },
    verify: async (_hash, candidate) => { await soon(); return candidate === password; },
    dummyVerify: soon,
  };
}

let server: RunningServer;
try {
  const config = loadConfig(process.env);
  // DEADBOLT_MANAGEMENT_PORT=0 means none; a test that reads /metrics asks for a free port.
  const management = process.env.SERVE_CHILD_MANAGEMENT === "ephemeral" ? { host: "127.0.0.1", port: 0 } : config.management;
  server = await startServer({ ...config, management }, { hasher: benchHasher() });
} catch (error) {
  process.stderr.write(`serve-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// The parent looks for the first stdout line that is a bare URL (pino logs are JSON lines).
if (server.managementUrl !== null) process.stdout.write(`management ${server.managementUrl}\n`);
process.stdout.write(`${server.url}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`serve-child: close failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.on("error", () => void stop());
process.stdin.resume();
