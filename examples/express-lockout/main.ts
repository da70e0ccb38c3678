/**
 * `node examples/express-lockout/main.ts`: serves the example on PORT (default 4100; 0 picks a
 * free one) with its users in DATABASE (default ./data/express-example.db), and prints its URL.
 */
import { createApp } from "./app.ts";

const { app, close } = createApp(process.env.DATABASE ?? "./data/express-example.db");
const server = app.listen(Number(process.env.PORT ?? 4100), "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`http://127.0.0.1:${address.port}\n`);
});
const stop = (): void => { server.close(() => void close()); };
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
