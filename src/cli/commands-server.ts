import { loadConfig } from "../config.ts";
import { migrate, openDatabase } from "../store/index.ts";
import type { Command } from "./command.ts";

const serve: Command = {
  name: "serve",
  synopsis: "",
  summary: "start the HTTP server (stops on SIGINT or SIGTERM)",
  details: ["Listens on DEADBOLT_HOST:DEADBOLT_PORT (default 127.0.0.1:3000)."],
  options: {},
  args: [],
  async run(io) {
    const config = loadConfig(io.env);
    // Loaded on demand: the other commands need neither Fastify nor its plugins.
    const { startServer } = await import("../server.ts");
    const server = await startServer(config);
    await io.waitForShutdown();
    await server.close();
    return 0;
  },
};

const migrateCommand: Command = {
  name: "migrate",
  synopsis: "",
  summary: "apply pending database migrations (serve and every command also do it)",
  details: [],
  options: {},
  args: [],
  async run(io) {
    const config = loadConfig(io.env);
    const database = openDatabase(config.databaseUrl);
    try {
      const applied = await migrate(database);
      io.stdout.write(applied.length === 0
        ? "database is up to date\n"
        : `applied ${applied.length} migration${applied.length === 1 ? "" : "s"}: ${applied.join(", ")}\n`);
      return 0;
    } finally {
      await database.close();
    }
  },
};

export const SERVER_COMMANDS: readonly Command[] = [serve, migrateCommand];
