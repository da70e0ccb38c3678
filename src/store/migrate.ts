import { Migrator, type Migration, type MigrationProvider } from "kysely/migration";
import type { Database } from "./db.ts";
import { initial } from "./migrations/001-initial.ts";

function provider(database: Database): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        "001-initial": initial(database.dialect),
      };
    },
  };
}

/** Applies pending migrations; safe to run from several processes at once (Kysely locks). */
export async function migrate(database: Database): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: provider(database) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
