import http from "node:http";

/** One request a client sends: a JSON POST and the status it must be answered with. */
export interface Shot {
  readonly path: string;
  readonly body: string;
  readonly expectStatus: number;
}

export interface LoadOptions {
  readonly baseUrl: string;
  /** Closed-loop clients: each sends its next request when the previous one is answered. */
  readonly concurrency: number;
  /** Answers in the first `warmupMs` are not counted (connections open, JIT warms up). */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The next request; called once per request, in order, across all clients. */
  readonly next: () => Shot;
}

export interface LoadResult {
  /** Answers per second completed inside the measured window. */
  readonly perSecond: number;
  readonly answered: number;
  readonly p50Ms: number;
  /** Answers (warm-up included) with another status than expected ("status×count"), empty when none. */
  readonly unexpected: string;
}

function post(agent: http.Agent, url: URL, shot: Shot): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      agent, host: url.hostname, port: url.port, path: shot.path, method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(shot.body) },
    }, (response) => {
      response.resume();
      response.once("end", () => resolve(response.statusCode ?? 0));
      response.once("error", reject);
    });
    request.once("error", reject);
    request.end(shot.body);
  });
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Runs `concurrency` closed-loop clients over keep-alive connections for warm-up + duration,
 * then waits for the requests still in flight, so the next measurement starts on an idle server.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const unexpected = new Map<number, number>();

  async function client(): Promise<void> {
    while (performance.now() < measureUntil) {
      const shot = options.next();
      const sent = performance.now();
      const status = await post(agent, url, shot);
      const answered = performance.now();
      if (status !== shot.expectStatus) unexpected.set(status, (unexpected.get(status) ?? 0) + 1);
      if (answered >= measureFrom && answered <= measureUntil) latencies.push(answered - sent);
    }
  }

  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    agent.destroy();
  }
  return {
    perSecond: latencies.length / (options.durationMs / 1000),
    answered: latencies.length,
    p50Ms: median(latencies),
    unexpected: [...unexpected].map(([status, count]) => `${status}×${count}`).join(" "),
  };
}

/** The server's Prometheus counter `deadbolt_password_verifications_total{kind}`. */
export async function verifications(baseUrl: string, kind: "real" | "dummy"): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const match = new RegExp(`^deadbolt_password_verifications_total\\{kind="${kind}"\\} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}
