/**
 * The bench's baseline: the least a password-checking HTTP service can do. Fastify and
 * @node-rs/argon2, one route that verifies the password against one stored hash (BENCH_HASH),
 * nothing else. Same protocol as test/support/serve-child.ts: prints its URL, stops on SIGTERM
 * or when stdin closes.
 */
import { verify } from "@node-rs/argon2";
import Fastify from "fastify";

const storedHash = process.env.BENCH_HASH;
if (storedHash === undefined || storedHash === "") {
  process.stderr.write("reference-server: BENCH_HASH is required\n");
  process.exit(1);
}

/** As serve-child's: answer at once, true for this password only (the bench's profile). */
const instantPassword = process.env.SERVE_CHILD_INSTANT_PASSWORD;

const app = Fastify({ logger: false });
app.post<{ Body: { password?: unknown } }>("/verify", async (request, reply) => {
  const password = typeof request.body?.password === "string" ? request.body.password : "";
  const ok = instantPassword === undefined
    ? await verify(storedHash, password).catch(() => false)
    : await new Promise<boolean>((resolve) => setImmediate(() => resolve(password === instantPassword)));
  return ok ? { ok: true } : reply.code(401).send({ error: "invalid_credentials" });
});

const url = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${url}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
}
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.on("error", () => void stop());
process.stdin.resume();
