import pino, { type Logger as Pino } from "pino";
import { createRequire } from "node:module";
import type Pretty from "pino-pretty";
import { emergencyUnlock, type Hasher } from "./auth/index.ts";
import { configWarnings, publicUrlWarning, type Config } from "./config.ts";
import { buildApp } from "./http/app.ts";
import { buildManagementApp } from "./http/management.ts";
import { createMetrics } from "./http/metrics.ts";
import { createThrottle } from "./http/throttle.ts";
import { createTransport, startDispatcher } from "./notify/index.ts";
import { createRuntime } from "./runtime.ts";
import { releaseStartupMemory } from "./memory.ts";
import { startPruner } from "./pruner.ts";

/** How often a server looks for mails queued by other processes (CLI) and for retries. */
const DISPATCH_INTERVAL_MS = 5_000;

export interface RunningServer {
  /** The address actually bound, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  /** The management listener's address (/metrics), or null when DEADBOLT_MANAGEMENT_PORT=0. */
  readonly managementUrl: string | null;
  close(): Promise<void>;
}

/**
 * JSON lines in production (one object per line, for a log collector); readable lines when
 * a person watches a terminal, so a mail written to the log can be read and its link followed.
 */
export function createLogger(config: Config, options: { pretty: boolean }): Pino {
  const settings = { level: config.logLevel, base: { service: config.appName } };
  if (!options.pretty) return pino(settings);
  // pino-pretty (30 modules) only for a person at a terminal.
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof Pretty;
  return pino(settings, pretty({
    colorize: true, translateTime: "UTC:yyyy-mm-dd HH:MM:ss 'UTC'", ignore: "pid,hostname,service,mail", singleLine: false,
  }));
}

/**
 * `deadbolt serve`: migrate, apply DEADBOLT_EMERGENCY_UNLOCK, then listen. The only place
 * that listens; everything else builds the app and injects requests.
 */
export async function startServer(config: Config, options: { readonly hasher?: Hasher } = {}): Promise<RunningServer> {
  const log = createLogger(config, { pretty: process.stdout.isTTY === true });
  for (const warning of configWarnings(config)) log.warn(warning);
  const metrics = createMetrics();
  const runtime = await createRuntime(config, { log, metrics, hasher: options.hasher, longLived: true });
  if (config.emergencyUnlock !== null) await emergencyUnlock(runtime.auth, config.emergencyUnlock);
  if (config.smtpUrl === null) log.warn("DEADBOLT_SMTP_URL is not set: security e-mails are written to this log instead of sent");
  // Each process dispatches the shared outbox; leases keep them from sending a mail twice.
  const transport = createTransport(config, log);
  const dispatcher = startDispatcher({
    database: runtime.auth.database, transport, now: runtime.auth.now, log, publicUrl: config.publicUrl,
    from: config.mailFrom, appName: config.appName, intervalMs: DISPATCH_INTERVAL_MS, signal: runtime.auth.notify.signal,
    owner: runtime.auth.instance,
  });
  const pruner = startPruner({ database: runtime.auth.database, now: runtime.auth.now, retentionMs: config.eventRetentionMs, log });
  const throttle = createThrottle({ perMinute: config.throttlePerMinute, redisUrl: config.redisUrl });
  const app = await buildApp(config, { auth: runtime.auth, metrics, throttle, logger: log });
  const management = config.management === null ? null
    : await buildManagementApp({ database: runtime.auth.database, metrics, logger: log });
  let url: string;
  let managementUrl: string | null = null;
  try {
    if (management !== null && config.management !== null) {
      managementUrl = await management.listen({ host: config.management.host, port: config.management.port });
    }
    url = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // A port in use: stop what started, so that the process can exit with the one-line error.
    await app.close();
    await management?.close();
    await dispatcher.stop();
    transport.close();
    await throttle.close();
    await runtime.close();
    throw error;
  }
  const mismatch = publicUrlWarning(config, new URL(url).port === "" ? 80 : Number(new URL(url).port));
  if (mismatch !== null) log.warn(mismatch);
  log.info({ url, managementUrl, database: config.databaseUrl.replace(/\/\/[^@]*@/, "//***@") }, `deadbolt listening on ${url}`);
  releaseStartupMemory();
  return {
    url,
    managementUrl,
    async close() {
      // Stop taking requests, let those in flight finish, then stop the background work.
      await app.close();
      await management?.close();
      await dispatcher.stop();
      await pruner.stop();
      transport.close();
      await throttle.close();
      await runtime.close();
    },
  };
}
