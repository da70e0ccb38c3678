import type { BookkeepingResult } from "./bookkeeping.ts";
import type { Measured, ScenarioKey } from "./scenarios.ts";
import { fixed, median, table } from "./stats.ts";

export const TARGET_RATIO = 0.95;

export type Runs = Partial<Record<ScenarioKey, Measured[]>>;

/**
 * The deadbolt scenarios and the reference each is compared with. The target is against the
 * bare reference, with libuv's default pool; the "same pool" rows compare with that reference
 * given deadbolt's pool size too, which leaves only what deadbolt adds around the hashing.
 */
const PAIRS = [
  { label: "wrong password", ref: "refWrong", db: "dbWrong", kind: "real", target: true },
  { label: "correct password", ref: "refRight", db: "dbRight", kind: "real", target: true },
  { label: "locked account (vs wrong)", ref: "refWrong", db: "dbLocked", kind: "dummy", target: true },
  { label: "wrong, same pool", ref: "poolWrong", db: "dbWrong", kind: "real", target: false },
  { label: "correct, same pool", ref: "poolRight", db: "dbRight", kind: "real", target: false },
] as const;

function verdict(ratio: number, target: boolean): string {
  if (!target) return "info";
  return ratio >= TARGET_RATIO ? "ok" : `below ${TARGET_RATIO}`;
}

function medianOf(runs: Runs, key: ScenarioKey, pick: (r: Measured) => number): number {
  return median((runs[key] ?? []).map(pick));
}

export function throughputTable(runs: Runs, oneUser: Measured): string {
  const perSecond = (r: Measured): number => r.perSecond;
  const rows: string[][] = [["scenario", "reference/s", "deadbolt/s", "ratio", "paired", "", "deadbolt p50", "argon2/answer"]];
  for (const { label, ref, db, kind, target } of PAIRS) {
    const ratio = medianOf(runs, db, perSecond) / medianOf(runs, ref, perSecond);
    // Each round's deadbolt rate over the reference rate measured just before it.
    const refRuns = runs[ref] ?? [];
    const paired = median((runs[db] ?? []).map((r, i) => r.perSecond / (refRuns[i]?.perSecond ?? Number.NaN)));
    const perAnswer = medianOf(runs, db, (r) => (kind === "real" ? r.realPerAnswer : r.dummyPerAnswer));
    rows.push([label, fixed(medianOf(runs, ref, perSecond)), fixed(medianOf(runs, db, perSecond)), fixed(ratio, 3),
      fixed(paired, 3), verdict(ratio, target), `${fixed(medianOf(runs, db, (r) => r.p50Ms), 0)} ms`, `${fixed(perAnswer, 2)} ${kind}`]);
  }
  const refRight = medianOf(runs, "refRight", perSecond);
  rows.push(["correct, one user (1 run)", fixed(refRight), fixed(oneUser.perSecond), fixed(oneUser.perSecond / refRight, 3),
    "", "info", `${fixed(oneUser.p50Ms, 0)} ms`, `${fixed(oneUser.realPerAnswer, 2)} real`]);
  return table(rows);
}

export function cpuTable(runs: Runs): string {
  const rows: string[][] = [["scenario", "reference", "deadbolt", "ratio", "", "JS thread: reference", "deadbolt", "extra"]];
  for (const { label, ref, db, target } of PAIRS) {
    const refCpu = medianOf(runs, ref, (r) => r.cpuMsPerAnswer);
    const dbCpu = medianOf(runs, db, (r) => r.cpuMsPerAnswer);
    const refMain = medianOf(runs, ref, (r) => r.mainMsPerAnswer);
    const dbMain = medianOf(runs, db, (r) => r.mainMsPerAnswer);
    rows.push([label, fixed(refCpu, 2), fixed(dbCpu, 2), fixed(refCpu / dbCpu, 3), verdict(refCpu / dbCpu, target),
      fixed(refMain, 2), fixed(dbMain, 2), fixed(dbMain - refMain, 2)]);
  }
  return table(rows);
}

export function roundsTable(runs: Runs, order: readonly ScenarioKey[], rounds: number): string {
  const rows = [["round", ...order]];
  for (let round = 0; round < rounds; round++) {
    rows.push([String(round + 1), ...order.map((key) => fixed(runs[key]?.[round]?.perSecond ?? Number.NaN))]);
  }
  return table(rows);
}

export function bookkeepingTable(results: ReadonlyArray<{ database: string; results: readonly BookkeepingResult[] | string }>): string {
  const rows: string[][] = [["database", "path", "attempts", "p50", "p99", "reserve p50", "record p50"]];
  for (const { database, results: measured } of results) {
    if (typeof measured === "string") {
      rows.push([database, "skipped", "", "", "", "", measured]);
      continue;
    }
    for (const r of measured) {
      rows.push([database, r.path, String(r.attempts), fixed(r.p50Ms, 3), fixed(r.p99Ms, 3),
        fixed(r.reserveP50Ms, 3), fixed(r.recordP50Ms, 3)]);
    }
  }
  return table(rows);
}
