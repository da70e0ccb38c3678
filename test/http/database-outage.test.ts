import { connect, createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { createTestDatabase, PG_URL, type TestDatabase } from "../support/databases.ts";
import { signIn } from "./helpers.ts";

const RIGHT = "right-password";
const UNAVAILABLE = { error: "service_unavailable", message: "The service is temporarily unavailable. Try again shortly." };
const NOT_READY = { error: "service_unavailable", message: "The database is unreachable." };

/** A TCP proxy in front of PostgreSQL that the test can stall, cut and restore, like a network. */
interface Network {
  readonly url: string;
  /** Stops delivering PostgreSQL's answers. */
  stall(): void;
  /** Resolves once the app has sent something that will never be answered. */
  unanswered(): Promise<void>;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
}

async function networkTo(databaseUrl: string): Promise<Network> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let stalled = false;
  let unanswered = 0;
  const listen = () => new Promise<void>((resolve) => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {});
      }
      client.on("data", (chunk) => {
        if (stalled) unanswered++;
        upstream.write(chunk);
      });
      upstream.on("data", (chunk) => {
        if (!stalled) client.write(chunk);
      });
    });
    server.listen(port, "127.0.0.1", () => {
      port = (server?.address() as { port: number }).port;
      resolve();
    });
  });
  await listen();
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    stall() {
      stalled = true;
      unanswered = 0;
    },
    async unanswered() {
      const deadline = Date.now() + 10_000;
      while (unanswered === 0) {
        if (Date.now() > deadline) throw new Error("the app sent nothing to the database");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async cut() {
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      server = null;
      stalled = false;
      // Let the app's pool see its connections end before the next request picks one.
      await new Promise((resolve) => setTimeout(resolve, 100));
    },
    restore: listen,
  };
}

describe("PostgreSQL unreachable", () => {
  let t: TestApp | undefined;
  let database: TestDatabase | undefined;
  let network: Network | undefined;
  afterEach(async () => {
    await t?.close();
    await network?.cut();
    await database?.drop();
    [t, network, database] = [undefined, undefined, undefined];
  });

  async function behindNetwork(): Promise<{ app: TestApp; net: Network }> {
    const real = await createTestDatabase("postgres");
    database = real;
    const net = await networkTo(real.url);
    network = net;
    const app = await createTestApp("postgres", { database: { dialect: "postgres", url: net.url, drop: () => real.drop() } });
    t = app;
    await app.createUser("ann@example.com", RIGHT);
    await signIn(app, "ann@example.com", RIGHT);
    return { app, net };
  }

  async function dropped(): Promise<TestApp> {
    const app = await createTestApp("postgres");
    t = app;
    await app.createUser("ann@example.com", RIGHT);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE ${new URL(app.database.url).pathname.slice(1)} WITH (FORCE)`);
    await admin.end();
    return app;
  }

  it("network cut: /readyz 503 and the right password gets 503, never 200; both recover with the network", async () => {
    const { app, net } = await behindNetwork();
    await net.cut();
    for (let i = 0; i < 2; i++) {
      const ready = await app.app.inject({ method: "GET", url: "/readyz" });
      expect([ready.statusCode, ready.json()]).toEqual([503, NOT_READY]);
      const login = await postLogin(app.app, "ann@example.com", RIGHT);
      expect([login.statusCode, login.json()]).toEqual([503, UNAVAILABLE]);
      expect(login.headers["set-cookie"]).toBeUndefined();
    }
    await net.restore();
    expect((await app.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    expect((await postLogin(app.app, "ann@example.com", RIGHT)).statusCode).toBe(200);
  });

  // Regression: the pool used to handle errors of idle clients only. A client checked out by
  // Kysely had no "error" listener, and pg emits "error" on it when its connection drops
  // mid-query: an unhandled "error" event, i.e. an uncaught exception that kills the server in
  // production. The test records such emits (swallowing them, so the runner survives).
  it("a connection lost in the middle of a login is a 503, not a process crash", async () => {
    const { app, net } = await behindNetwork();
    const unhandled: string[] = [];
    const emit = pg.Client.prototype.emit;
    pg.Client.prototype.emit = function (this: pg.Client, name: string | symbol, ...args: unknown[]): boolean {
      if (name === "error" && this.listenerCount("error") === 0) {
        unhandled.push(String((args[0] as Error | undefined)?.message));
        return false;
      }
      return emit.call(this, name, ...args);
    };
    try {
      net.stall();
      const login = postLogin(app.app, "ann@example.com", RIGHT);
      await net.unanswered();
      await net.cut();
      const answer = await login;
      expect([answer.statusCode, answer.json()]).toEqual([503, UNAVAILABLE]);
      expect(unhandled).toEqual([]);
    } finally {
      pg.Client.prototype.emit = emit;
    }
  });

  // Regression: SQLSTATE 3D000 (the database does not exist: dropped, or not restored yet) used
  // to answer 500 internal_error while /readyz said 503.
  it("a dropped database: /readyz 503 and the right password gets 503 service_unavailable, never 200", async () => {
    const app = await dropped();
    const ready = await app.app.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([503, NOT_READY]);
    for (let i = 0; i < 2; i++) {
      const login = await postLogin(app.app, "ann@example.com", RIGHT);
      expect([login.statusCode, login.json()]).toEqual([503, UNAVAILABLE]);
      expect(login.headers["set-cookie"]).toBeUndefined();
    }
  });
});
