/**
 * Preloaded into a server by `npm run bench:profile -- … --statements` (node --import): times
 * every better-sqlite3 statement by its SQL text and, at exit, prints the 15 costliest as
 * `STAT count total-ms µs-each sql` lines on stderr, which the profile then shows.
 */
import { createRequire } from "node:module";

interface Timed {
  count: number;
  ms: number;
}

const require = createRequire(`${process.cwd()}/package.json`);
const Database = require("better-sqlite3") as typeof import("better-sqlite3");
const probe = new Database(":memory:");
const prototype = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, unknown>;
probe.close();
const times = new Map<string, Timed>();
for (const method of ["run", "get", "all", "iterate"]) {
  const original = prototype[method] as (this: { source: string }, ...args: unknown[]) => unknown;
  prototype[method] = function (this: { source: string }, ...args: unknown[]): unknown {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const key = this.source.replace(/\s+/g, " ").slice(0, 90);
      const timed = times.get(key) ?? { count: 0, ms: 0 };
      timed.count += 1;
      timed.ms += performance.now() - started;
      times.set(key, timed);
    }
  };
}
process.on("exit", () => {
  for (const [sql, { count, ms }] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    process.stderr.write(`STAT ${count}\t${ms.toFixed(0)} ms\t${((ms / count) * 1000).toFixed(1)} µs\t${sql}\n`);
  }
});
