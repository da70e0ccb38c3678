import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One message as the SMTP server received it, parsed just enough for assertions. */
export interface ReceivedMail {
  readonly envelopeTo: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly subject: string;
  readonly messageId: string;
  readonly text: string;
  readonly html: string;
  readonly raw: string;
}

export interface TestSmtp {
  /** smtp://127.0.0.1:<port>; stays the same across stop() and start(). */
  readonly url: string;
  readonly mails: ReceivedMail[];
  /** Messages whose data has started to arrive (including those held by `delayMs`). */
  receiving(): number;
  /** Mails whose envelope recipient is `address`. */
  to(address: string): ReceivedMail[];
  /** Closes the port: connections are refused, as when the mail server is down. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? "7bit").toLowerCase()) {
    case "quoted-printable": return decodeQuotedPrintable(body);
    case "base64": return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    default: return body;
  }
}

/** Splits a MIME entity into unfolded, lower-cased headers and its body. */
function splitEntity(entity: string): { headers: Record<string, string>; body: string } {
  const end = entity.indexOf("\r\n\r\n");
  const head = end < 0 ? entity : entity.slice(0, end);
  const body = end < 0 ? "" : entity.slice(end + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** Minimal MIME: the text/plain and text/html parts of a (possibly multipart) message. */
export function parseMail(raw: string, envelopeTo: readonly string[]): ReceivedMail {
  const { headers, body } = splitEntity(raw);
  const parts: { type: string; content: string }[] = [];
  const boundary = /boundary="?([^";]+)"?/i.exec(headers["content-type"] ?? "")?.[1];
  const entities = boundary === undefined
    ? [{ headers, body }]
    : body.split(`--${boundary}`).slice(1).filter((p) => !p.startsWith("--")).map((p) => splitEntity(p.replace(/^\r\n/, "")));
  for (const entity of entities) {
    const type = (entity.headers["content-type"] ?? "text/plain").split(";")[0]?.trim().toLowerCase() ?? "";
    parts.push({ type, content: decodeBody(entity.body, entity.headers["content-transfer-encoding"]) });
  }
  return {
    envelopeTo,
    headers,
    subject: headers.subject ?? "",
    messageId: headers["message-id"] ?? "",
    text: parts.find((p) => p.type === "text/plain")?.content ?? "",
    html: parts.find((p) => p.type === "text/html")?.content ?? "",
    raw,
  };
}

/**
 * A real SMTP server on 127.0.0.1 (no TLS, no auth) collecting what it receives.
 * `delayMs` holds each message before accepting it, so concurrent senders overlap.
 */
export async function startTestSmtp(options: { delayMs?: number } = {}): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let receiving = 0;
  let server: SMTPServer | null = null;
  let port = 0;

  async function start(): Promise<void> {
    const next = new SMTPServer({
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      disableReverseLookup: true,
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        receiving += 1;
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          setTimeout(() => {
            mails.push(parseMail(Buffer.concat(chunks).toString("utf8"), envelopeTo));
            callback();
          }, options.delayMs ?? 0);
        });
      },
    });
    // A sender killed mid-message resets its connection: that is the sender's story, not a test error.
    next.on("error", () => {});
    next.listen(port, "127.0.0.1");
    await once(next.server, "listening");
    port = (next.server.address() as AddressInfo).port;
    server = next;
  }

  async function stop(): Promise<void> {
    const current = server;
    server = null;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  await start();
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    receiving: () => receiving,
    to: (address) => mails.filter((m) => m.envelopeTo.includes(address.toLowerCase())),
    stop,
    start,
    close: stop,
  };
}

/** The token of the first `/unlock?token=` or `/reset?token=` link in a mail's text part. */
export function tokenIn(mail: ReceivedMail | undefined, path: "unlock" | "reset"): string {
  const match = new RegExp(`/${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail?.text ?? "");
  if (!match?.[1]) throw new Error(`no /${path} link in ${JSON.stringify(mail?.text ?? "(no mail)")}`);
  return match[1];
}
