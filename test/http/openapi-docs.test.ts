/** /openapi.json as /docs shows it: examples and a sentence per response, on copies of the schemas. */
import { afterEach, describe, expect, it } from "vitest";
import { documentRoute } from "../../src/http/openapi-docs.ts";
import { EmailField, ErrorSchema } from "../../src/http/schemas.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

interface Operation { requestBody?: { content: Record<string, { schema: { properties?: Record<string, { example?: unknown }> } }> }; responses: Record<string, { description: string }> }

describe("the OpenAPI document", () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("describes every response and shows an e-mail that looks like one, without touching the validation schemas", async () => {
    t = await createTestApp("sqlite");
    const spec = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json<{ paths: Record<string, Record<string, Operation>> }>();
    const operations = Object.values(spec.paths).flatMap((methods) => Object.values(methods));
    expect(operations.length).toBeGreaterThan(20);
    for (const operation of operations) {
      for (const response of Object.values(operation.responses)) {
        expect(response.description).not.toBe("Default Response");
        expect(response.description.length).toBeGreaterThan(3);
      }
    }
    const login = spec.paths["/api/auth/login"]?.post;
    expect(login?.requestBody?.content["application/json"]?.schema.properties?.email?.example).toBe("alice@example.com");
    expect(login?.responses["401"]?.description).toMatch(/^Not signed in/);
    // The shared schemas the routes validate with are untouched.
    expect(ErrorSchema).not.toHaveProperty("description");
    expect(EmailField).not.toHaveProperty("example");
    const bad = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email: "not-an-address", password: "x" } });
    expect(bad.statusCode).toBe(400);
  });

  it("passes hidden routes through unchanged", () => {
    const schema = { hide: true, body: { type: "object" } };
    expect(documentRoute({ schema, url: "/login" }).schema).toBe(schema);
  });
});
