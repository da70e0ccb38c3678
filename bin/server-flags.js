// V8 flags and environment the server runs with. They size the heap and libuv's thread pool,
// and V8 and libuv read them only when a process starts (v8.setFlagsFromString is too late), so
// `deadbolt serve` re-executes itself once with them. Kept in plain JavaScript so the launcher
// can read it before anything is compiled.
import { availableParallelism } from "node:os";

/**
 * Semi-spaces of 16 MB: under a login load V8 grows the young generation to 64 MB semi-spaces
 * (128 MB resident, mostly garbage between scavenges). Capped, the bench server stays at about
 * 170 MB loaded instead of 240-300 MB, for no measurable CPU (`npm run bench`).
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=16"];

/**
 * libuv's thread pool, where argon2 runs, sized to the cores instead of libuv's 4. On 2 cores,
 * 4 pool threads took turns on 2 cores, 19 MiB of argon2 memory each: a verification cost about
 * a sixth more CPU than on a core of its own (`npm run bench`: raw argon2 214 verifies/s with 4
 * threads, 255 with 2), and every thread slept after each check until the event loop started
 * the next. libuv reads UV_THREADPOOL_SIZE once, when its pool starts, which can be before any
 * of deadbolt's code runs, so it has to be in the environment the process starts with.
 */
export function serverEnvironment(env = process.env) {
  if ((env.UV_THREADPOOL_SIZE ?? "") !== "") return {};
  return { UV_THREADPOOL_SIZE: String(Math.min(availableParallelism(), 1024)) };
}

/** Whether this process (its arguments or NODE_OPTIONS) already sets the young generation's size. */
function sizedAlready() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return given.some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag));
}

/**
 * Replaces this process (same PID, so signals and supervisors are unaffected) with one that has
 * SERVER_NODE_FLAGS and serverEnvironment(), each unless the operator chose it. Where execve
 * does not exist (Windows) the server runs with Node's and libuv's defaults.
 */
export function reexecWithServerFlags() {
  if (typeof process.execve !== "function") return;
  const flags = sizedAlready() ? [] : SERVER_NODE_FLAGS;
  const env = serverEnvironment();
  if (flags.length === 0 && Object.keys(env).length === 0) return;
  process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...env });
}
