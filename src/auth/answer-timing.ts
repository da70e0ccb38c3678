import { setTimeout as sleep } from "node:timers/promises";

/** Every outcome is answered on this grid, as the service's HTTP login failures are. */
export const QUANTUM_MS = 50;
const SAMPLES = 31;
/** Before any attempt has been sampled, an attempt lasts at least this long. */
const FIRST_GUESS_MS = 25;
const PERCENTILE = 0.9;

/**
 * Makes every outcome take the same time, even when the slowest outcome's work outgrows one
 * grid step (a loaded database). In the library a refused attempt (locked, disabled) runs no
 * verification and less database work, and an app's `verify` may return at once for an
 * account it does not know; a password-reset request for a known address writes a token and a
 * mail where an unknown one writes an event. So every attempt lasts at least as long as the
 * 90th percentile of recent sampled attempts (those that did the full work), then ends on the
 * next multiple of {@link QUANTUM_MS} after it began.
 */
export interface TimingEqualizer {
  /** Ends an attempt that began at `startedAt` (a `performance.now()` reading). */
  finish(startedAt: number, outcome: { readonly sample: boolean }): Promise<void>;
}

export function createTimingEqualizer(): TimingEqualizer {
  const samples: number[] = [];
  let next = 0;
  const floor = (): number => {
    if (samples.length === 0) return FIRST_GUESS_MS;
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) * PERCENTILE)] ?? FIRST_GUESS_MS;
  };
  return {
    async finish(startedAt, outcome) {
      let elapsed = performance.now() - startedAt;
      const least = floor();
      if (outcome.sample) {
        samples[next] = elapsed;
        next = (next + 1) % SAMPLES;
      }
      if (elapsed < least) {
        await sleep(least - elapsed);
        elapsed = performance.now() - startedAt;
      }
      const target = Math.max(1, Math.ceil(elapsed / QUANTUM_MS)) * QUANTUM_MS;
      await sleep(target - elapsed);
    },
  };
}
