/**
 * examples/oidc-express as `npm run example:oidc` runs it: the first start registers the app as a
 * client through the CLI (on deadbolt's database settings) and keeps its credentials; a user
 * signs in on deadbolt's /login and the app shows the e-mail; a later start reuses the client,
 * and one whose saved client was deleted registers again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteClient, listClients } from "../../src/oidc/index.ts";
import { TEST_SECRET_KEY } from "../support/databases.ts";
import { Browser, freePort, hiddenField, startOidcServer, type OidcServer } from "../oidc/support.ts";

const MAIN = fileURLToPath(new URL("../../examples/oidc-express/main.ts", import.meta.url));
const PACKAGE = fileURLToPath(new URL("../../package.json", import.meta.url));
const PASSWORD = "a long walk on the beach";

interface Example {
  readonly child: ChildProcess;
  readonly lines: string[];
}

describe("examples/oidc-express, started with one command", () => {
  let server: OidcServer;
  let dir: string;
  let port: number;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startOidcServer("sqlite");
    await server.createUser("nora@example.com", PASSWORD);
    dir = mkdtempSync(join(tmpdir(), "deadbolt-oidc-example-"));
    port = await freePort();
  });
  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill("SIGTERM");
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<Example> {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("DEADBOLT_")));
    const child = spawn(process.execPath, [MAIN], {
      cwd: dir, stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...inherited, DEADBOLT_DATABASE_URL: server.database.url, DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
        DEADBOLT_PUBLIC_URL: server.url, EXAMPLE_PORT: String(port),
      },
    });
    running.push(child);
    const lines: string[] = [];
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      lines.push(line);
      if (line.startsWith("example app on ")) return { child, lines };
    }
    throw new Error(`the example exited before listening: ${lines.join("\n")}`);
  }

  async function stop(example: Example): Promise<void> {
    const exited = once(example.child, "exit");
    example.child.kill("SIGTERM");
    await exited;
  }

  /** A user signing in through the app: its /login, deadbolt's form, back to the app. */
  async function signIn(): Promise<string> {
    const app = `http://localhost:${port}`;
    const browser = new Browser();
    const toDeadbolt = await browser.follow(`${app}/login`, `${app}/callback`);
    expect(toDeadbolt.url).toContain(`${server.url}/login?interaction=`);
    const interaction = hiddenField(await toDeadbolt.response.text(), "interaction");
    const back = await browser.follow(`${server.url}/login`, `${app}/callback`, { form: { email: "nora@example.com", password: PASSWORD, interaction } });
    expect(back.url.startsWith(`${app}/callback?code=`)).toBe(true);
    const callback = await browser.request(back.url);
    expect(callback.status).toBe(302);
    return (await browser.request(`${app}/`)).text();
  }

  it("is the package's example:oidc script", () => {
    const scripts = (JSON.parse(readFileSync(PACKAGE, "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["example:oidc"]).toBe("node examples/oidc-express/main.ts");
  });

  it("registers itself once, signs a user in through deadbolt, and registers again when its client is gone", async () => {
    const first = await start();
    expect(first.lines.some((line) => line.startsWith("registered the example as client "))).toBe(true);
    const [client] = await listClients(server.auth.database.db);
    expect(client).toMatchObject({ name: "Example app", public: false, redirectUris: [`http://localhost:${port}/callback`] });
    expect(await signIn()).toContain("Signed in as <strong>nora@example.com</strong>");
    await stop(first);

    const second = await start();
    expect(second.lines.some((line) => line.startsWith("registered"))).toBe(false);
    expect(await signIn()).toContain("nora@example.com");
    await stop(second);

    await deleteClient(server.auth.database.db, client?.clientId as string);
    const third = await start();
    expect(third.lines.some((line) => line.startsWith("registered the example as client "))).toBe(true);
    expect(await signIn()).toContain("nora@example.com");
    await stop(third);
  });
});
