import type {} from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import { authenticate, type AuthContext, type Authenticated, type Client } from "../auth/index.ts";
import { cleanHeaderText } from "../text.ts";
import { sendError } from "./errors.ts";

export const SESSION_COOKIE = "deadbolt_session";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `requireSession` for routes that need a signed-in user. */
    session: Authenticated | null;
  }
}

export function clientOf(request: FastifyRequest): Client {
  const agent = request.headers["user-agent"];
  // Stored in events and devices, shown in pages and mails: bounded, without control characters.
  return { ip: request.ip ?? null, userAgent: typeof agent === "string" ? cleanHeaderText(agent, 512) : null };
}

/** The session token from `Authorization: Bearer …`, else from the session cookie. */
export function sessionToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (match) return match[1] ?? null;
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return typeof cookie === "string" && cookie !== "" ? cookie : null;
}

export function cookieOptions(publicUrl: string, maxAgeMs: number) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "lax" as const,
    secure: publicUrl.startsWith("https:"),
    maxAge: Math.floor(maxAgeMs / 1000),
  };
}

/** preHandler: answers 401 `unauthenticated` unless a valid session is presented. */
export function requireSession(auth: AuthContext) {
  return async function (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = sessionToken(request);
    request.session = token === null ? null : await authenticate(auth, token);
    if (request.session === null) {
      await sendError(reply, "unauthenticated");
    }
  };
}
