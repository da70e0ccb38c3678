/**
 * `node examples/fastify-lockout/main.ts`: serves the example on PORT (default 4200; 0 picks a
 * free one) with its users in DATABASE (default ./data/fastify-example.db), and prints its URL.
 */
import { createApp } from "./app.ts";

const app = createApp(process.env.DATABASE ?? "./data/fastify-example.db");
const url = await app.listen({ port: Number(process.env.PORT ?? 4200), host: "127.0.0.1" });
process.stdout.write(`${url}\n`);
const stop = (): void => { void app.close(); };
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
