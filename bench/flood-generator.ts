/**
 * The flood of `npm run bench` section e, in a worker thread of its own (bench/flood.ts starts
 * it): an open loop of wrong passwords at `rate` requests per second, round-robin over the
 * loopback addresses 127.0.0.2…, for `seconds`, through the lean client of flood-wire.ts. Posts "started", then "sent" when the loop
 * ends, then "done" with every answer's latency once the answers are in (or the drain
 * deadline passed).
 */
import { parentPort, workerData } from "node:worker_threads";
import { BUSY_MESSAGE } from "../src/http/login-answer.ts";
import { jsonPost, WirePool } from "./flood-wire.ts";

export interface FloodInput {
  readonly url: string;
  readonly rate: number;
  readonly seconds: number;
  readonly addresses: number;
  readonly maxInFlight: number;
  readonly drainMs: number;
  readonly targets: readonly string[];
  readonly password: string;
}

export interface FloodDone {
  readonly kind: "done";
  readonly sent: number;
  /** Not sent because `maxInFlight` requests were already waiting for an answer. */
  readonly skipped: number;
  /** Answers other than 429 and 401. */
  readonly other: number;
  /** Latencies (ms) of the 429 answers, and of the 401s (admitted and verified). */
  readonly refused: number[];
  readonly admittedMs: number[];
  /** How many 429s said the untrusted hashing queue was full. */
  readonly busy: number;
  readonly drained: boolean;
}

export type FloodMessage =
  | { readonly kind: "started"; readonly startedAt: number }
  | { readonly kind: "sent"; readonly floodSeconds: number }
  | FloodDone;

async function flood(input: FloodInput, post: (message: FloodMessage) => void): Promise<void> {
  const base = new URL(input.url);
  const port = Number(base.port);
  const pools = Array.from({ length: input.addresses }, (_, i) => new WirePool(base.hostname, port, `127.0.0.${i + 2}`));
  // Each target's request, as bytes, once: the generator's work per request is a write and a parse.
  const requests = input.targets.map((email) => jsonPost(base.hostname, port, "/api/auth/login", { email, password: input.password }));
  // The busy answer's JSON has the message escaped as JSON.stringify escapes it.
  const busyText = JSON.stringify(BUSY_MESSAGE);
  const refused: number[] = [];
  const admittedMs: number[] = [];
  let busy = 0;
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  let other = 0;
  const pending: Promise<void>[] = [];
  const total = Math.round(input.rate * input.seconds);
  const started = performance.now();
  const ends = started + input.seconds * 1000;
  post({ kind: "started", startedAt: Date.now() });
  // Open loop: requests leave on schedule whether or not earlier ones were answered.
  while (sent + skipped < total && performance.now() < ends) {
    const due = started + ((sent + skipped) * 1000) / input.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= input.maxInFlight) {
      skipped += 1;
      continue;
    }
    const n = sent++;
    inFlight += 1;
    const sentAt = performance.now();
    pending.push(pools[n % input.addresses]!.send(requests[n % requests.length]!).then((answer) => {
      const ms = performance.now() - sentAt;
      inFlight -= 1;
      if (answer.status === 429) {
        refused.push(ms);
        if (answer.body.includes(busyText)) busy += 1;
      } else if (answer.status === 401) admittedMs.push(ms);
      else other += 1;
    }));
  }
  post({ kind: "sent", floodSeconds: (performance.now() - started) / 1000 });
  const drained = await Promise.race([
    Promise.all(pending).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), input.drainMs)),
  ]);
  for (const pool of pools) pool.destroy();
  post({ kind: "done", sent, skipped, other, refused, admittedMs, busy, drained });
}

if (parentPort !== null) {
  const port = parentPort;
  await flood(workerData as FloodInput, (message) => port.postMessage(message));
}
