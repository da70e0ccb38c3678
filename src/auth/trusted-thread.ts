import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * A thread of its own for trusted devices' argon2 checks during a flood. libuv's pool threads
 * run at nice 10 (hashing-priority.ts), so that the event loop answers a flood's 429s at once;
 * but a trusted check on that pool then also yields to every other busy thread at nice 0 (the
 * event loop, a proxy, the attacker's own client on the same machine). This worker thread keeps
 * the event loop's priority: against the flood's untrusted check it gets ten times the share.
 * It costs about 10 MB while it lives, so it starts with a flood and ends once it sat idle.
 */

/** Plain JavaScript, evaluated in the worker: synchronous argon2 checks, one after another. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { verifySync } = require(workerData.argon2);
parentPort.on("message", ({ id, hash, password }) => {
  let ok = false;
  try { ok = verifySync(hash, password); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

/** After this long without a check the thread ends; the next flood starts another. */
export const TRUSTED_THREAD_IDLE_MS = 60_000;

export interface TrustedThread {
  /** True when `password` matches the argon2 `hash`; rejects if the thread could not answer. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Ends the thread now (checks in flight reject). */
  stop(): Promise<void>;
  /** Whether the thread is running. */
  running(): boolean;
}

interface Pending {
  readonly resolve: (ok: boolean) => void;
  readonly reject: (error: Error) => void;
}

interface Running {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/** A lazily started verification thread; `verify` starts it, `idleMs` without use ends it. */
export function createTrustedThread(options: { idleMs?: number } = {}): TrustedThread {
  const idleMs = options.idleMs ?? TRUSTED_THREAD_IDLE_MS;
  const argon2 = createRequire(import.meta.url).resolve("@node-rs/argon2");
  let current: Running | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let nextId = 0;

  function start(): Running {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { argon2 } });
    const pending = new Map<number, Pending>();
    const running: Running = { worker, pending };
    const failAll = (error: Error): void => {
      for (const { reject } of pending.values()) reject(error);
      pending.clear();
    };
    // Never keeps the process alive, never crashes it: a failed thread only fails its own
    // checks, and the caller verifies those on the pool instead.
    worker.unref();
    worker.on("message", ({ id, ok }: { id: number; ok: boolean }) => {
      pending.get(id)?.resolve(ok);
      pending.delete(id);
      if (pending.size === 0 && current === running) armIdleTimer();
    });
    worker.on("error", (error) => failAll(error instanceof Error ? error : new Error(String(error))));
    worker.once("exit", () => {
      if (current === running) current = null;
      failAll(new Error("the trusted verification thread ended"));
    });
    return running;
  }

  function armIdleTimer(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idleTimer = null;
      if (current?.pending.size === 0) void stop();
    }, idleMs);
    idleTimer.unref();
  }

  async function stop(): Promise<void> {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const stopping = current;
    current = null;
    if (stopping) await stopping.worker.terminate();
  }

  return {
    verify(hash, password) {
      const running = (current ??= start());
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      const id = nextId++;
      return new Promise<boolean>((resolve, reject) => {
        running.pending.set(id, { resolve, reject });
        running.worker.postMessage({ id, hash, password });
      });
    },
    stop,
    running: () => current !== null,
  };
}
