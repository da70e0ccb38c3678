import type {} from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.ts";

/** The browser's trusted-device cookie (SPEC "Trusted devices" 1). */
export const DEVICE_COOKIE = "deadbolt_device";
/** 400 days: the longest lifetime browsers keep a cookie. */
export const DEVICE_COOKIE_MAX_AGE_S = 400 * 24 * 60 * 60;

/**
 * The device token a request presents: `deviceToken` in the body (API clients), else the
 * `deadbolt_device` cookie (browsers). Not checked here; `findTrustedDevice` decides.
 *
 * @example const trusted = await presentsTrustedDevice(auth, { email }, deviceTokenOf(request));
 */
export function deviceTokenOf(request: FastifyRequest): string | null {
  const body = request.body as Record<string, unknown> | null | undefined;
  const fromBody = typeof body === "object" && body !== null ? body.deviceToken : undefined;
  if (typeof fromBody === "string" && fromBody !== "") return fromBody;
  const cookie = request.cookies?.[DEVICE_COOKIE];
  return typeof cookie === "string" && cookie !== "" ? cookie : null;
}

/** Gives the browser its device token: HttpOnly, SameSite=Lax, Secure with an https PUBLIC_URL. */
export function setDeviceCookie(reply: FastifyReply, config: Config, token: string | null): void {
  if (token === null) return;
  reply.setCookie(DEVICE_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: config.publicUrl.startsWith("https:"),
    maxAge: DEVICE_COOKIE_MAX_AGE_S,
  });
}
