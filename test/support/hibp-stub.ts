import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sha1Hex } from "../../src/auth/breached.ts";

/** What the stub received: everything that left deadbolt, for the k-anonymity assertions. */
export interface RangeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HibpStub {
  /** Base URL for DEADBOLT_HIBP_URL. */
  readonly url: string;
  readonly requests: RangeRequest[];
  close(): Promise<void>;
}

export interface HibpStubOptions {
  /** Passwords the stub reports as breached, with their counts. */
  readonly breached?: Readonly<Record<string, number>>;
  /**
   * "hang": accept the request and never answer; "endless": stream range lines without end;
   * a number: answer with that status.
   */
  readonly behaviour?: "answer" | "hang" | "endless" | number;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/**
 * A local stand-in for api.pwnedpasswords.com's `/range/{prefix}`: answers like the real API
 * (upper-case 35-hex suffixes, `:count`, CRLF), with zero-count padding when asked for it.
 */
export async function startHibpStub(options: HibpStubOptions = {}): Promise<HibpStub> {
  const requests: RangeRequest[] = [];
  const hashes = Object.entries(options.breached ?? {}).map(([password, count]) => ({ hash: sha1Hex(password), count }));
  const hanging = new Set<() => void>();
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => { body += chunk; });
    request.on("end", () => {
      requests.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      const behaviour = options.behaviour ?? "answer";
      if (behaviour === "hang") {
        hanging.add(() => response.destroy());
        return;
      }
      if (behaviour === "endless") {
        response.writeHead(200, { "content-type": "text/plain" });
        const line = `${sha1Hex("endless").slice(5)}:0\r\n`.repeat(1000);
        const more = (): void => {
          while (!response.destroyed && response.write(line));
          if (!response.destroyed) response.once("drain", more);
        };
        hanging.add(() => response.destroy());
        more();
        return;
      }
      if (typeof behaviour === "number") {
        response.writeHead(behaviour).end("stub error");
        return;
      }
      const prefix = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? "")?.[1];
      if (prefix === undefined) {
        response.writeHead(400).end("The hash prefix was not in a valid format");
        return;
      }
      const lines = hashes.filter((h) => h.hash.startsWith(prefix)).map((h) => `${h.hash.slice(5)}:${h.count}`);
      // Padding as the real API adds it: random suffixes with a count of 0.
      if (request.headers["add-padding"] === "true") {
        for (let i = 0; i < 800; i++) lines.push(`${sha1Hex(`padding-${prefix}-${i}`).slice(5)}:0`);
      }
      lines.push(`${sha1Hex(`real-${prefix}`).slice(5)}:3`);
      response.writeHead(200, { "content-type": "text/plain" }).end(lines.join("\r\n"));
    });
  });
  const url = await listen(server);
  return {
    url,
    requests,
    close: () => new Promise((resolve) => {
      for (const end of hanging) end();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A base URL where nothing listens (a port the OS handed out and that was closed again). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}
