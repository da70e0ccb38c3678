// V8 flags the server runs with. They size the heap, and V8 reads them only when a process
// starts (v8.setFlagsFromString is too late), so `deadbolt serve` re-executes itself once with
// them. Kept in plain JavaScript so the launcher can read it before anything is compiled.

/**
 * Semi-spaces of 16 MB: under a login load V8 grows the young generation to 64 MB semi-spaces
 * (128 MB resident, mostly garbage between scavenges). Capped, the bench server stays at about
 * 170 MB loaded instead of 240-300 MB, for no measurable CPU (`npm run bench`).
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=16"];

/** Whether this process (its arguments or NODE_OPTIONS) already sets the young generation's size. */
function sizedAlready() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return given.some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag));
}

/**
 * Replaces this process (same PID, so signals and supervisors are unaffected) with one that has
 * SERVER_NODE_FLAGS, unless the operator chose a size. Where execve does not exist (Windows)
 * the server runs with V8's defaults.
 */
export function reexecWithServerFlags() {
  if (sizedAlready() || typeof process.execve !== "function") return;
  process.execve(process.execPath, [process.execPath, ...SERVER_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
