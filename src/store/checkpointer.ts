import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the background connection moves the WAL's pages into the database file. */
export const CHECKPOINT_INTERVAL_MS = 1000;
/**
 * The event loop's own connection still checkpoints once the WAL holds this many pages (16 MiB
 * at 4 KiB a page), should the background one fall behind or fail; SQLite's default is 1,000.
 */
export const BACKSTOP_CHECKPOINT_PAGES = 4_000;

/**
 * Plain JavaScript, evaluated in a worker thread: its own connection to the file, a PASSIVE
 * checkpoint on a timer (it never waits for, nor blocks, a reader or a writer), and a clean
 * close when asked. Failures are ignored: the next round, or the backstop, catches up.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread. A checkpoint copies the pages the
 * WAL accumulated into the database file and syncs it; done by the connection that commits,
 * as SQLite does by default, that ran on the event loop inside one login in every few dozen
 * (a quarter of the commits' cost in `npm run bench:profile`).
 */
export function startCheckpointer(path: string, intervalMs = CHECKPOINT_INTERVAL_MS): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs } });
  // A checkpointer must never keep the process alive, nor crash it.
  worker.unref();
  worker.on("error", () => {});
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      worker.postMessage("stop");
      const timeout = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
