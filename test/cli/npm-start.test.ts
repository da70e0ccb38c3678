import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { cliEnv } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LOGIN_BODY = JSON.stringify({ email: "nobody@example.com", password: "not-the-password" });

/** Every live descendant of `pid` (Linux /proc), so the test sees the server behind npm's shim. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the name (field 2) may hold spaces, so skip past ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Starts `npm start` in its own process group (as a terminal would) and waits for the URL it logs. */
async function npmStart(database: TestDatabase): Promise<{ npm: ChildProcess; url: string; exited: Promise<number | null>; output: () => string }> {
  const env = cliEnv(database, { DEADBOLT_PORT: "0", DEADBOLT_LOG_LEVEL: "info" });
  const npm = spawn("npm", ["start"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => npm.on("close", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: string): void => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    npm.stdout.setEncoding("utf8").on("data", onData);
    npm.stderr.setEncoding("utf8").on("data", onData);
    npm.on("error", reject);
    void exited.then((code) => reject(new Error(`npm start exited early (${code}): ${output}`)));
  });
  return { npm, url, exited, output: () => output };
}

/**
 * A login whose headers the server has taken (it answered `100 Continue`) but whose body is
 * still to come: a request in flight for as long as the test wants.
 */
async function openLogin(url: string): Promise<{ socket: Socket; finish(): Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => { received += chunk; });
  const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.write([
    "POST /api/auth/login HTTP/1.1", `Host: ${hostname}:${port}`, "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(LOGIN_BODY)}`, "Expect: 100-continue", "Connection: close", "", "",
  ].join("\r\n"));
  for (;;) {
    if (received.includes("100 Continue")) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (socket.destroyed) throw new Error(`connection closed: ${received}`);
  }
  return {
    socket,
    async finish() {
      socket.write(LOGIN_BODY);
      await ended;
      return received;
    },
  };
}

/** Resolves once the server no longer accepts connections (it is draining); throws if it outlives npm. */
async function refusing(url: string, npm: ChildProcess): Promise<void> {
  for (;;) {
    const npmGone = npm.exitCode !== null || npm.signalCode !== null;
    try {
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    } catch {
      return;
    }
    if (npmGone) throw new Error(`npm ended (${npm.exitCode ?? npm.signalCode}) and the server still answers`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// SPEC Operations: SIGTERM or SIGINT, also through `npm start`, drains requests in flight and
// exits 0. npm runs the script with `sh -c`; dash does not pass signals on, so the pinned Node
// used to outlive a stopped npm (issue 8, defect 13).
describe("npm start", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await database.drop();
  });
  // A failed run must not leave a server behind: the group holds npm and whatever it started.
  const groups: number[] = [];
  afterEach(() => {
    for (const group of groups.splice(0)) {
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });

  it.each([
    ["SIGTERM to npm", "SIGTERM", "npm"],
    ["SIGINT to npm", "SIGINT", "npm"],
    ["Ctrl-C (SIGINT to the whole process group)", "SIGINT", "group"],
  ] as const)("%s: drains the request in flight, the server process ends, exit 0", async (_name, signal, target) => {
    const { npm, url, exited, output } = await npmStart(database);
    groups.push(npm.pid!);
    // The Node process that serves (not a `sh -c` between npm and it), re-executed with its V8 flags.
    const servers = descendants(npm.pid!).filter((pid) => /(^|\/)node (--\S+ )*(\S*\/)?bin\/deadbolt\.js serve/.test(commandOf(pid)));
    expect(servers, output()).toHaveLength(1);
    const login = await openLogin(url);
    process.kill(target === "group" ? -npm.pid! : npm.pid!, signal);
    await refusing(url, npm);
    const answer = await login.finish();
    // npm's exit code (and with it the server's) tells a process that died from one that answered wrongly.
    const code = await exited;
    expect(answer, `npm exited ${code}\n${output()}`).toMatch(/HTTP\/1\.1 401 [^\r]*\r\n/);
    expect(answer).toContain('"error":"invalid_credentials"');
    expect(code, output()).toBe(0);
    expect(servers.filter(alive)).toEqual([]);
  });
});
