import pino from "pino";
import { emergencyUnlock } from "./auth/index.ts";
import { configWarnings, type Config } from "./config.ts";
import { buildApp } from "./http/app.ts";
import { createMetrics } from "./http/metrics.ts";
import { createThrottle } from "./http/throttle.ts";
import { createTransport, startDispatcher } from "./notify/index.ts";
import { createRuntime } from "./runtime.ts";

/** How often a server looks for mails queued by other processes (CLI) and for retries. */
const DISPATCH_INTERVAL_MS = 5_000;

export interface RunningServer {
  /** The address actually bound, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `deadbolt serve`: migrate, apply DEADBOLT_EMERGENCY_UNLOCK, then listen. The only place
 * that listens; everything else builds the app and injects requests.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = pino({ level: config.logLevel, base: { service: "deadbolt" } });
  for (const warning of configWarnings(config)) log.warn(warning);
  const metrics = createMetrics();
  const runtime = await createRuntime(config, { log, metrics });
  if (config.emergencyUnlock !== null) await emergencyUnlock(runtime.auth, config.emergencyUnlock);
  if (config.smtpUrl === null) log.warn("DEADBOLT_SMTP_URL is not set: security e-mails are written to this log instead of sent");
  // Each process dispatches the shared outbox; leases keep them from sending a mail twice.
  const transport = createTransport(config, log);
  const dispatcher = startDispatcher({
    database: runtime.auth.database, transport, now: runtime.auth.now, log, publicUrl: config.publicUrl,
    from: config.mailFrom, intervalMs: DISPATCH_INTERVAL_MS, signal: runtime.auth.notify.signal,
  });
  const throttle = createThrottle({ perMinute: config.throttlePerMinute, redisUrl: config.redisUrl });
  const app = await buildApp(config, { auth: runtime.auth, metrics, throttle, logger: log });
  const url = await app.listen({ host: config.host, port: config.port });
  log.info({ url, database: config.databaseUrl.replace(/\/\/[^@]*@/, "//***@") }, `deadbolt listening on ${url}`);
  return {
    url,
    async close() {
      await app.close();
      await dispatcher.stop();
      transport.close();
      await throttle.close();
      await runtime.close();
    },
  };
}
