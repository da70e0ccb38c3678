/**
 * `node bench/password-dictionary.ts`: what the password policy's dictionary costs the first
 * time a password is set (it is loaded lazily, so an idle server never pays it). Each round
 * runs in a fresh process; RSS and heap are read after a forced GC, before and after loading.
 * Knob: BENCH_ROUNDS (5).
 */
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";

interface Sample {
  readonly loadMs: number;
  readonly firstCheckMs: number;
  readonly checkMs: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly baselineRssMb: number;
}

const CHILD = "--child";

async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const before = process.memoryUsage();
  const { loadCommonWords } = await import("../src/auth/password-dictionary.ts");
  const { checkPassword } = await import("../src/auth/password-policy.ts");
  const startedAt = performance.now();
  const words = await loadCommonWords();
  const loadMs = performance.now() - startedAt;
  const policy = { minLength: 8, words };
  const context = ["ann.smith@example.com", "deadbolt", "localhost"];
  let at = performance.now();
  checkPassword("correct horse battery staple", policy, context);
  const firstCheckMs = performance.now() - at;
  const samples = ["Password1!", "harbor velvet cactus lantern", "kT9#vq2Lm", "ann.smith2024", "qwertyui"];
  at = performance.now();
  for (let i = 0; i < 200; i++) for (const sample of samples) checkPassword(sample, policy, context);
  const checkMs = (performance.now() - at) / (200 * samples.length);
  gc();
  const after = process.memoryUsage();
  const sample: Sample = {
    loadMs, firstCheckMs, checkMs,
    rssMb: (after.rss - before.rss) / 2 ** 20,
    heapMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    baselineRssMb: before.rss / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(sample));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function parent(): void {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
  const self = fileURLToPath(import.meta.url);
  const samples: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    const out = execFileSync(process.execPath, ["--expose-gc", self, CHILD], { encoding: "utf8" });
    samples.push(JSON.parse(out) as Sample);
  }
  const row = (name: string, pick: (s: Sample) => number, unit: string) =>
    `${name.padEnd(34)} ${median(samples.map(pick)).toFixed(unit === "ms" && name.includes("per check") ? 3 : 1).padStart(8)} ${unit}`;
  console.log(`password dictionary, median of ${rounds} fresh processes (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  console.log(row("process RSS before loading", (s) => s.baselineRssMb, "MB"));
  console.log(row("RSS added by loading", (s) => s.rssMb, "MB"));
  console.log(row("heap added by loading", (s) => s.heapMb, "MB"));
  console.log(row("load time", (s) => s.loadMs, "ms"));
  console.log(row("first check after loading", (s) => s.firstCheckMs, "ms"));
  console.log(row("per check, warm", (s) => s.checkMs, "ms"));
}

if (process.argv.includes(CHILD)) await child();
else parent();
