/**
 * helmet's headers, computed once at start-up (src/http/security-headers.ts), are exactly what
 * helmet's own middleware sets, and reach every kind of answer: the API, errors and 404s, the
 * pages, and the OpenID Provider that answers on the raw response.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import helmet from "helmet";
import { afterEach, describe, expect, it } from "vitest";
import { helmetHeaders } from "../../src/http/security-headers.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";

const OPTIONS = {
  hsts: false,
  contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", "data:"], upgradeInsecureRequests: null } },
};

/** The headers helmet's middleware sets on a real response of a real server. */
async function realHelmetHeaders(): Promise<Record<string, string>> {
  const middleware = helmet(OPTIONS);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    middleware(request, response, () => response.end("ok"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const skip = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);
    return Object.fromEntries([...answer.headers].filter(([name]) => !skip.has(name)));
  } finally {
    server.close();
  }
}

describe("security headers", () => {
  let t: TestApp | undefined;
  afterEach(async () => t?.close());

  it("are helmet's own, header for header", async () => {
    const computed = Object.fromEntries(helmetHeaders(OPTIONS).map(([name, value]) => [name.toLowerCase(), value]));
    expect(computed).toEqual(await realHelmetHeaders());
    expect(Object.keys(computed).length).toBeGreaterThanOrEqual(10);
  });

  it("are on the API's answers, its errors and 404s, the pages and the OpenID Provider's answers", async () => {
    t = await createTestApp("sqlite");
    const answers = [
      await postLogin(t.app, "nobody@example.com", "guess"),
      await t.app.inject({ method: "POST", url: "/api/auth/login", payload: "{" , headers: { "content-type": "application/json" } }),
      await t.app.inject({ method: "GET", url: "/no/such/page" }),
      await t.app.inject({ method: "GET", url: "/login" }),
      await t.app.inject({ method: "GET", url: "/.well-known/openid-configuration" }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([401, 400, 404, 200, 200]);
    for (const answer of answers) {
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      expect(answer.headers["referrer-policy"]).toBe("no-referrer");
      expect(answer.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
  });
});
