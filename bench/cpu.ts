import { readdirSync, readFileSync } from "node:fs";

/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second. */
const MS_PER_TICK = 10;

/** CPU time a process has used so far: all threads, and its main (JavaScript) thread alone. */
export interface CpuTimes {
  readonly totalMs: number;
  readonly mainMs: number;
}

function ticks(statPath: string): number {
  const stat = readFileSync(statPath, "utf8");
  // Fields after "(comm)": state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU used by `pid` (Linux /proc), or null where /proc is unavailable. Unlike throughput it
 * hardly depends on what else the machine runs, so it is the steadier comparison.
 */
export function cpuTimes(pid: number): CpuTimes | null {
  try {
    return {
      totalMs: ticks(`/proc/${pid}/stat`) * MS_PER_TICK,
      mainMs: ticks(`/proc/${pid}/task/${pid}/stat`) * MS_PER_TICK,
    };
  } catch {
    return null;
  }
}

/** CPU time per thread name (main "node", "libuv-worker", V8's helpers…), ms; empty without /proc. */
export function threadTimes(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return times;
  }
  for (const task of tasks) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim();
      const key = task === String(pid) ? `${name} (main)` : name;
      times.set(key, (times.get(key) ?? 0) + ticks(`/proc/${pid}/task/${task}/stat`) * MS_PER_TICK);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}
