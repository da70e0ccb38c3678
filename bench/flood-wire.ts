/**
 * A minimal HTTP/1.1 client for the flood of `npm run bench` (section e): keep-alive sockets
 * from one source address, one request at a time on each, requests prepared once as bytes,
 * answers read by status line, Content-Length and body. Node's http client spends about
 * 0.1 ms of CPU per request; at thousands a second, on the two cores the server also needs,
 * that is the generator slowing the server it measures. A real flood comes from other
 * machines, so the generator should cost as little of this one as it can.
 */
import { connect, type Socket } from "node:net";

export interface WireAnswer {
  readonly status: number;
  readonly body: string;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** The bytes of one JSON POST, to be written as they are. */
export function jsonPost(host: string, port: number, path: string, body: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(body));
  return Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`),
    payload,
  ]);
}

interface Connection {
  readonly socket: Socket;
  received: Buffer;
  pending: ((answer: WireAnswer) => void) | null;
}

/** Keep-alive connections from `localAddress` to one server; a new one when all are busy. */
export class WirePool {
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #host: string;
  readonly #port: number;
  readonly #localAddress: string;

  constructor(host: string, port: number, localAddress: string) {
    this.#host = host;
    this.#port = port;
    this.#localAddress = localAddress;
  }

  /** Sends `request`; resolves with the answer, or status 0 when the connection failed. */
  send(request: Buffer): Promise<WireAnswer> {
    const connection = this.#idle.pop() ?? this.#open();
    return new Promise((resolve) => {
      connection.pending = resolve;
      connection.socket.write(request);
    });
  }

  destroy(): void {
    for (const connection of this.#all) connection.socket.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }

  #open(): Connection {
    const socket = connect({ host: this.#host, port: this.#port, localAddress: this.#localAddress, noDelay: true });
    const connection: Connection = { socket, received: Buffer.alloc(0), pending: null };
    this.#all.add(connection);
    socket.on("data", (chunk: Buffer) => {
      connection.received = connection.received.length === 0 ? chunk : Buffer.concat([connection.received, chunk]);
      this.#answered(connection);
    });
    const gone = (): void => {
      this.#all.delete(connection);
      const index = this.#idle.indexOf(connection);
      if (index >= 0) this.#idle.splice(index, 1);
      const pending = connection.pending;
      connection.pending = null;
      pending?.({ status: 0, body: "" });
    };
    socket.once("error", gone);
    socket.once("close", gone);
    return connection;
  }

  /** Completes the connection's request once its whole answer is in. */
  #answered(connection: Connection): void {
    const { received } = connection;
    const headerEnd = received.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = received.toString("latin1", 0, headerEnd);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    const bodyStart = headerEnd + HEADER_END.length;
    if (received.length < bodyStart + length) return;
    const answer = { status: Number(head.slice(9, 12)), body: received.toString("utf8", bodyStart, bodyStart + length) };
    connection.received = received.subarray(bodyStart + length);
    const pending = connection.pending;
    connection.pending = null;
    this.#idle.push(connection);
    pending?.(answer);
  }
}
