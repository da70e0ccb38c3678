/**
 * A busy server's SQLite WAL is checkpointed by a worker thread, not inside a commit on the
 * event loop: pages written reach the database file without any checkpoint by the writing
 * connection (whose own threshold, the backstop, is far above what the test writes).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/store/db.ts";
import { CHECKPOINT_INTERVAL_MS } from "../../src/store/checkpointer.ts";

const ROWS = 300;
/** 300 rows of 4,000 bytes, a page each: 1.2 MB, under SQLite's default threshold (1,000 pages) and the backstop's. */
const ROW_BYTES = 4000;

describe("background WAL checkpoints (SQLite)", () => {
  let dir: string;
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the rows, then waits up to `waitMs` for the database file to hold them. */
  async function writeAndWait(backgroundCheckpoints: boolean, waitMs: number, rows = ROWS): Promise<{ file: number; wal: number }> {
    dir = mkdtempSync(join(tmpdir(), "deadbolt-checkpoint-"));
    const path = join(dir, "db.sqlite");
    database = openDatabase(`sqlite:${path}`, { backgroundCheckpoints });
    await sql`CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)`.execute(database.db);
    for (let i = 0; i < rows; i++) await sql`INSERT INTO blobs (data) VALUES (randomblob(${ROW_BYTES}))`.execute(database.db);
    const until = performance.now() + waitMs;
    while (statSync(path).size < rows * ROW_BYTES && performance.now() < until) await sleep(CHECKPOINT_INTERVAL_MS);
    return { file: statSync(path).size, wal: statSync(`${path}-wal`).size };
  }

  it("moves committed pages into the database file from another thread", async () => {
    // A busy machine may take seconds to start the thread.
    const { file, wal } = await writeAndWait(true, 30_000);
    expect(wal).toBeGreaterThan(ROWS * ROW_BYTES);
    expect(file).toBeGreaterThan(ROWS * ROW_BYTES);
  });

  it("without it, they stay in the WAL until the writer's own threshold", async () => {
    // The default threshold of 1,000 pages is not reached either: nothing is checkpointed.
    const { file } = await writeAndWait(false, CHECKPOINT_INTERVAL_MS * 4);
    expect(file).toBeLessThan(ROWS * ROW_BYTES / 4);
  });

  it("starts only once the database is written to in earnest (the thread costs memory)", async () => {
    // 100 writes: a quiet server's; its few pages stay in the WAL, as without the thread.
    const { file } = await writeAndWait(true, CHECKPOINT_INTERVAL_MS * 4, 100);
    expect(file).toBeLessThan(100 * ROW_BYTES / 4);
  });

  it("stops with the database, and the file stays consistent", async () => {
    await writeAndWait(true, 30_000);
    await database!.close();
    database = openDatabase(`sqlite:${join(dir, "db.sqlite")}`);
    const { count } = (await sql<{ count: number }>`SELECT count(*) AS count FROM blobs`.execute(database.db)).rows[0]!;
    expect(count).toBe(ROWS);
  });
});
