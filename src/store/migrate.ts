import { setTimeout as sleep } from "node:timers/promises";
import { Migrator, type Migration, type MigrationProvider } from "kysely/migration";
import type { Database } from "./db.ts";
import { initial } from "./migrations/001-initial.ts";
import { totp } from "./migrations/002-totp.ts";
import { notify } from "./migrations/003-notify.ts";
import { instances } from "./migrations/004-instances.ts";
import { devices } from "./migrations/005-devices.ts";
import { scale } from "./migrations/007-scale.ts";
import { oidc } from "./migrations/009-oidc.ts";
import { userTally } from "./migrations/010-user-tally.ts";
import { lockedCount } from "./migrations/011-locked-count.ts";
import { deviceUserIndex } from "./migrations/012-device-user-index.ts";
import { statCountsByKey } from "./migrations/013-stat-counts-by-key.ts";

/** Every migration, by name (exported so tests can build a database as an earlier release left it). */
export function provider(database: Database, tablePrefix: string): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        "001-initial": initial(database.dialect),
        "002-totp": totp(database.dialect),
        "003-notify": notify(database.dialect),
        "004-instances": instances(database.dialect),
        "005-devices": devices(database.dialect),
        "007-scale": scale(database.dialect, { tablePrefix }),
        "009-oidc": oidc(database.dialect),
        "010-user-tally": userTally(database.dialect, { tablePrefix }),
        "011-locked-count": lockedCount(),
        "012-device-user-index": deviceUserIndex(),
        "013-stat-counts-by-key": statCountsByKey(database.dialect, { tablePrefix }),
      };
    },
  };
}

/** Another process applying the same migration right now (SQLite has no migration lock). */
const CONCURRENT_MIGRATION = /already exists|duplicate column|SQLITE_BUSY|database is locked/i;
const SQLITE_ATTEMPTS = 50;

export interface MigrateOptions {
  /**
   * The prefix of every table when `database.db` carries a TablePrefixPlugin (the library):
   * Kysely's own bookkeeping tables get it too, so the app's migrations never meet ours.
   */
  readonly tablePrefix?: string;
}

async function migrateOnce(database: Database, options: MigrateOptions): Promise<string[]> {
  const prefix = options.tablePrefix ?? "";
  const migrator = new Migrator({
    db: database.db, provider: provider(database, prefix),
    migrationTableName: `${prefix}kysely_migration`, migrationLockTableName: `${prefix}kysely_migration_lock`,
    // Numbers are assigned per issue and land in any order: a database that already has 009
    // must still accept 004 when it arrives.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/**
 * Applies pending migrations; safe to run from several processes at once. PostgreSQL: Kysely
 * holds an advisory lock. SQLite: Kysely takes no lock, so a process that collides with another
 * one's migration waits and tries again; the one that finishes first records it, and every
 * migration starts with the statement that collides, so none is half-applied twice.
 * Migrations name tables through the schema builder, never raw SQL, so a table prefix applies.
 */
export async function migrate(database: Database, options: MigrateOptions = {}): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(database, options);
    } catch (error) {
      const retry = database.dialect === "sqlite" && attempt < SQLITE_ATTEMPTS &&
        CONCURRENT_MIGRATION.test(error instanceof Error ? error.message : String(error));
      if (!retry) throw error;
      await sleep(50 + Math.random() * 150);
    }
  }
}
