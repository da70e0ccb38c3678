import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
/**
 * What /docs shows beyond the route schemas: examples a reader recognises (an e-mail that looks
 * like one), a sentence for every response instead of swagger's "Default Response", and
 * deadbolt's name in Swagger UI's top bar. Applied to a copy of each schema through
 * @fastify/swagger's `transform`, so validation and serialization never see these keywords.
 */

/** OpenAPI 3.0 `example` values by property name (3.0 reads `example`, not `examples`). */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  email: "alice@example.com",
  password: "correct horse battery staple",
  currentPassword: "correct horse battery staple",
  newPassword: "a longer passphrase of four words",
  code: "123456",
  note: "Laptop reported stolen, ticket 4711",
  role: "user",
  id: "0b9e4c1e-5c43-4a7e-9d0c-2f1f5b7a8e61",
  userId: "0b9e4c1e-5c43-4a7e-9d0c-2f1f5b7a8e61",
  ip: "203.0.113.7",
  since: "1h",
  q: "example.com",
  name: "Intranet wiki",
};

/** What each status means on this API (errors carry the stable codes of errors.ts). */
const STATUS_WORDS: Readonly<Record<string, string>> = {
  200: "Success",
  201: "Created",
  202: "Accepted: the work (usually a mail) is queued",
  204: "Done; no body",
  400: "Malformed or refused input (`invalid_request`, `weak_password`, `invalid_token`, …)",
  401: "Not signed in (`unauthenticated`), or wrong credentials (`invalid_credentials`)",
  403: "Signed in, but not allowed (`forbidden`), or a disabled account (`account_disabled`)",
  404: "No such resource (`not_found`)",
  409: "Conflicts with the current state (`last_admin`, `email_taken`, `mfa_already_enabled`, …)",
  423: "The account is locked (`account_locked`, informative disclosure only)",
  429: "Too many requests from this client (`too_many_requests`); see Retry-After",
  503: "The database is unreachable; nothing was done",
};

type Schema = Record<string | symbol, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy of a JSON schema whose named properties carry an example when they have none. */
function withExamples(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withExamples);
  if (!isObject(schema)) return schema;
  const copy: Schema = { ...schema };
  for (const key of ["items", "anyOf", "oneOf", "allOf"]) {
    if (key in copy) copy[key] = withExamples(copy[key]);
  }
  if (isObject(copy.properties)) {
    const properties: Schema = {};
    for (const [name, property] of Object.entries(copy.properties)) {
      const example = EXAMPLES[name];
      const described = withExamples(property);
      properties[name] = isObject(described) && example !== undefined && described.example === undefined &&
        (described.type === "string" || described.anyOf !== undefined || described.enum !== undefined)
        ? { ...described, example } : described;
    }
    copy.properties = properties;
  }
  return copy;
}

/** Every response with a sentence; a route without response schemas gets a described 200. */
function describedResponses(response: unknown): Schema {
  if (!isObject(response)) return { 200: { description: STATUS_WORDS[200] } };
  const described: Schema = {};
  for (const [status, schema] of Object.entries(response)) {
    const words = STATUS_WORDS[status] ?? `HTTP ${status}`;
    const copy = withExamples(schema);
    described[status] = isObject(copy) ? { ...copy, description: typeof copy.description === "string" ? copy.description : words } : copy;
  }
  return described;
}

/**
 * @fastify/swagger's `transform`: the route's schema as /docs should show it. Hidden routes
 * pass through untouched.
 *
 * @example await app.register(swagger, { openapi, transform: documentRoute });
 */
export function documentRoute({ schema, url }: { schema: unknown; url: string }): { schema: Schema; url: string } {
  const base = isObject(schema) ? schema : {};
  if (base.hide === true) return { schema: base, url };
  const copy: Schema = { ...base, response: describedResponses(base.response) };
  for (const part of ["body", "querystring", "params"]) {
    if (part in base) copy[part] = withExamples(base[part]);
  }
  return { schema: copy, url };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The top bar's logo: the app's name as an SVG word mark (white on Swagger UI's dark bar). */
export function docsLogo(appName: string): { type: string; content: Buffer; href: string; target: "_self" } {
  const name = escapeXml(appName.slice(0, 40));
  const width = Math.max(120, 16 * appName.length + 90);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40" viewBox="0 0 ${width} 40">` +
    `<text x="0" y="28" font-family="system-ui, sans-serif" font-size="26" font-weight="700" fill="#ffffff">${name}</text>` +
    `<text x="${width - 4}" y="28" text-anchor="end" font-family="system-ui, sans-serif" font-size="16" fill="#c9d1d9">API</text></svg>`;
  return { type: "image/svg+xml", content: Buffer.from(svg), href: "/docs", target: "_self" };
}

const FAVICON = new URL("../web/assets/favicon.ico", import.meta.url);

/** Swagger UI's page title and favicon: the app's own, not Swagger's. */
export function docsTheme(appName: string): { title: string; favicon: { filename: string; rel: string; sizes: string; type: string; content: Buffer }[] } {
  return {
    title: `${appName} API`,
    favicon: [{ filename: "favicon.ico", rel: "icon", sizes: "32x32", type: "image/x-icon", content: readFileSync(FAVICON) }],
  };
}

/**
 * The CSP hashes of the `<style>` elements Swagger UI's own bundles render (its stock top-bar
 * logo carries one, drawn before our logo replaces it). Read from the files served, so an
 * upgrade of swagger-ui keeps a console free of CSP errors without a hand-copied hash.
 */
function bundledStyleHashes(): string[] {
  const dir = new URL("./static/", pathToFileURL(require.resolve("@fastify/swagger-ui")));
  const hashes: string[] = [];
  for (const file of ["swagger-ui-standalone-preset.js", "swagger-ui-bundle.js"]) {
    let source: string;
    try {
      source = readFileSync(new URL(file, dir), "utf8");
    } catch {
      continue;
    }
    for (const match of source.matchAll(/createElement\("style",null,"([^"\\]*)"\)/g)) {
      hashes.push(`'sha256-${createHash("sha256").update(match[1] ?? "").digest("base64")}'`);
    }
  }
  return hashes;
}

/**
 * swagger-ui's `transformStaticCSP`: its own policy (`staticCSP: true` hashes its inline
 * scripts) plus the hashes of its own `<style>` elements, and nothing more (no
 * 'unsafe-inline'). Over plain http, upgrade-insecure-requests would send its requests to an
 * https port that does not exist.
 */
export function docsCsp(options: { https: boolean }): (header: string) => string {
  let styles: string | null = null;
  return (header) => {
    styles ??= bundledStyleHashes().join(" ");
    const kept = options.https ? header : header.replace(/\s*upgrade-insecure-requests;?/, "");
    return `${kept.trim().replace(/;?$/, ";")} style-src-elem 'self' ${styles};`.replace(/ +;/g, ";");
  };
}
