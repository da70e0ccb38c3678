/** Which queue a password verification waits in (SPEC "Trusted devices" rule 5). */
export type Lane = "trusted" | "untrusted";

export interface PriorityGate {
  /** Runs `task` when a place is free; queued trusted tasks always start before queued untrusted ones. */
  run<T>(lane: Lane, task: () => Promise<T>): Promise<T>;
  /**
   * Whether a task of `lane` may still join its queue: false once that lane's queue holds its
   * `maxWaiting`. Ask before any work the attempt would have to undo (a counted slot); `run`
   * itself always queues, so a caller that was admitted is never turned away halfway.
   */
  admits(lane: Lane): boolean;
  /** Whether untrusted tasks wait in flood numbers (`floodAt` or more) right now. */
  flooding(): boolean;
  /** Tasks running and waiting, per lane (for tests and metrics). */
  stats(): { readonly running: number; readonly waiting: Readonly<Record<Lane, number>> };
}

export interface PriorityGateOptions {
  /**
   * The longest queue of each lane that `admits` accepts; unbounded when not said. Bounding the
   * untrusted lane keeps a flood of guesses from building a queue whose wait grows without end
   * (and memory with it): beyond it, untrusted attempts are turned away at once, unverified.
   */
  readonly maxWaiting?: Partial<Readonly<Record<Lane, number>>>;
  /**
   * Once this many untrusted tasks wait (a flood, not a busy minute), untrusted tasks may take
   * at most `floodPlaces` places: a trusted device's verification then never waits for a
   * place, and on a small machine the event loop keeps a core to answer the flood's 429s
   * instead of queueing behind hashing threads. Off when not said, or with one place.
   */
  readonly floodAt?: number;
  /**
   * Places untrusted tasks may hold during a flood, and none while a trusted task runs;
   * `concurrency − 1` when not said, at least 1.
   */
  readonly floodPlaces?: number;
}

/**
 * A small priority gate in front of the password hashing: at most `concurrency` tasks run at
 * once (so the rest queue here, where we choose the order, rather than in libuv's FIFO thread
 * pool); when a place frees up, the oldest trusted task goes first, then the oldest untrusted.
 * A flood of untrusted guesses therefore lengthens only its own queue.
 *
 * @example
 * const gate = createPriorityGate(2);
 * await gate.run("trusted", () => verify(hash, password));
 */
export function createPriorityGate(concurrency: number, options: PriorityGateOptions = {}): PriorityGate {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`priority gate: concurrency must be a positive integer, not ${concurrency}`);
  for (const [lane, max] of Object.entries(options.maxWaiting ?? {})) {
    if (!Number.isInteger(max) || max < 0) throw new Error(`priority gate: maxWaiting.${lane} must be a non-negative integer, not ${max}`);
  }
  const maxWaiting: Record<Lane, number> = {
    trusted: options.maxWaiting?.trusted ?? Number.POSITIVE_INFINITY,
    untrusted: options.maxWaiting?.untrusted ?? Number.POSITIVE_INFINITY,
  };
  const waiting: Record<Lane, (() => void)[]> = { trusted: [], untrusted: [] };
  const floodAt = options.floodAt ?? Number.POSITIVE_INFINITY;
  const floodPlaces = Math.max(1, Math.min(concurrency - 1, options.floodPlaces ?? concurrency - 1));
  let running = 0;
  let runningUntrusted = 0;

  const flooding = (): boolean => concurrency > 1 && waiting.untrusted.length >= floodAt;

  function untrustedMayStart(): boolean {
    const flooded = flooding();
    // During a flood a trusted check also has the cores to itself while it runs: no untrusted
    // check starts beside it (one already running finishes), so it is not slowed down.
    return !flooded || (runningUntrusted < floodPlaces && running === runningUntrusted);
  }

  function next(): void {
    while (running < concurrency) {
      const start = waiting.trusted.shift() ?? (untrustedMayStart() ? waiting.untrusted.shift() : undefined);
      if (start === undefined) return;
      running += 1;
      start();
    }
  }

  return {
    run<T>(lane: Lane, task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        waiting[lane].push(() => {
          if (lane === "untrusted") runningUntrusted += 1;
          let result: Promise<T>;
          try {
            result = task();
          } catch (error) {
            result = Promise.reject(error);
          }
          // The place is free before the caller resumes, so its next call sees it free.
          const release = (): void => {
            running -= 1;
            if (lane === "untrusted") runningUntrusted -= 1;
            next();
          };
          result.then((value) => { release(); resolve(value); }, (error: unknown) => { release(); reject(error); });
        });
        next();
      });
    },
    // A place this lane may take now means no queue at all; otherwise its own queue must have room.
    admits: (lane) => (running < concurrency && (lane === "trusted" || untrustedMayStart()))
      || waiting[lane].length < maxWaiting[lane],
    flooding,
    stats: () => ({ running, waiting: { trusted: waiting.trusted.length, untrusted: waiting.untrusted.length } }),
  };
}
