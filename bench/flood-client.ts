/** One login request of the flood bench, timed; shared by the legitimate users and the flood's worker. */
import http from "node:http";
import { BUSY_MESSAGE } from "../src/http/login-answer.ts";

export interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly deviceToken?: string;
  /** A 429 from the full untrusted hashing queue (src/auth/password.ts), not from the per-client throttle. */
  readonly busy?: boolean;
}

export function login(agent: http.Agent, base: URL, body: Record<string, string>): Promise<Answer> {
  const payload = JSON.stringify(body);
  const sent = performance.now();
  return new Promise((resolve) => {
    const request = http.request({
      agent, host: base.hostname, port: base.port, path: "/api/auth/login", method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("end", () => {
        const status = response.statusCode ?? 0;
        const ms = performance.now() - sent;
        let deviceToken: string | undefined;
        let busy = false;
        if (status === 200 || status === 429) {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { deviceToken?: unknown; message?: unknown };
            if (typeof parsed.deviceToken === "string") deviceToken = parsed.deviceToken;
            busy = parsed.message === BUSY_MESSAGE;
          } catch { /* not JSON: no device token */ }
        }
        resolve({ status, ms, deviceToken, busy });
      });
    });
    // A refused connection is an answer too (status 0), so the bench never hangs on one.
    request.once("error", () => resolve({ status: 0, ms: performance.now() - sent }));
    request.end(payload);
  });
}

