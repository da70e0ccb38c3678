import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import { Type } from "typebox";
import {
  DISABLE_NOTE_MAX_LENGTH, disableUser, enableUser, inviteUser, unlockUser, userView, userViews, type AuthContext, type UserView,
} from "../../auth/index.ts";
import { findUserById, listUsers, type UserRow } from "../../store/index.ts";
import { adminActor, requireAdmin } from "../admin-guard.ts";
import { sendError } from "../errors.ts";
import { EMAIL_MAX_LENGTH, isSingleLine } from "../../text.ts";
import { EmailField, ErrorSchema, IdParams, NewPasswordField, NoteField, TextField, UserSchema } from "../schemas.ts";

export interface AdminUserRouteDeps {
  readonly auth: AuthContext;
}

export const USERS_PAGE_DEFAULT = 50;
export const USERS_PAGE_MAX = 200;

const CursorField = Type.String({ minLength: 1, maxLength: 400, pattern: "^[A-Za-z0-9_-]+$" });
const UserList = Type.Object({ users: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });
const UserParams = IdParams;
const Role = Type.Union([Type.Literal("user"), Type.Literal("admin")]);
const CreateBody = Type.Object({
  email: { ...EmailField, examples: ["ann.lee@example.com"] },
  password: Type.Optional(NewPasswordField({
    description: "Omit to invite: the user is mailed a single-use link (7 days) to choose a password. Refused with 400 weak_password when it is too short or too long, common, built from the e-mail or the site, a run or a repetition, or breached",
    examples: ["correct horse battery staple"],
  })),
  role: Type.Optional(Role),
}, { additionalProperties: false });
const DisableBody = Type.Union([Type.Object({
  note: Type.Optional(NoteField({ maxLength: DISABLE_NOTE_MAX_LENGTH, description: "Why, kept in the account.disabled event", examples: ["left the company"] })),
}, { additionalProperties: false }), Type.Null()]);
const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };
const security = [{ bearer: [] }];

/** The opaque page cursor: the last e-mail of the page, base64url-encoded. */
export function encodeUserCursor(email: string): string {
  return Buffer.from(email, "utf8").toString("base64url");
}

export function decodeUserCursor(cursor: string): string | null {
  const email = Buffer.from(cursor, "base64url").toString("utf8");
  // Only the canonical encoding of a plausible e-mail is accepted; anything else is tampering.
  return email !== "" && email.length <= EMAIL_MAX_LENGTH && isSingleLine(email) && encodeUserCursor(email) === cursor ? email : null;
}

export async function adminUserRoutes(app: FastifyInstance, deps: AdminUserRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));
  const view = (row: UserRow): Promise<UserView> => userView(auth, row);

  api.get("/api/admin/users", {
    schema: {
      summary: "List users by e-mail, filtered by status or an e-mail substring",
      tags: ["admin"],
      security,
      querystring: Type.Object({
        status: Type.Optional(Type.Union([Type.Literal("active"), Type.Literal("locked"), Type.Literal("disabled")])),
        q: Type.Optional(TextField({ maxLength: EMAIL_MAX_LENGTH, description: "Case-insensitive substring of the e-mail" })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: USERS_PAGE_MAX, default: USERS_PAGE_DEFAULT })),
        cursor: Type.Optional(CursorField),
      }),
      response: { 200: UserList, ...errors },
    },
  }, async (request, reply) => {
    const { status, q, cursor } = request.query;
    const limit = request.query.limit ?? USERS_PAGE_DEFAULT;
    const after = cursor === undefined ? undefined : decodeUserCursor(cursor);
    if (after === null) return sendError(reply, "invalid_request", "Invalid querystring: cursor is not one this API issued");
    const now = auth.now();
    // One extra row tells whether another page exists without a COUNT.
    const rows = await listUsers(auth.database.db, { status, q, after, limit: limit + 1, now });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      users: await userViews(auth, page),
      nextCursor: rows.length > limit && last ? encodeUserCursor(last.email) : null,
    };
  });

  api.post("/api/admin/users", {
    schema: {
      summary: "Create a user (role defaults to user); without a password, invite them by e-mail",
      tags: ["admin"],
      security,
      body: CreateBody,
      response: { 201: { ...UserSchema, description: "The user was created (and, without a password, invited)" }, ...errors },
    },
  }, async (request, reply) => {
    const { email, password, role } = request.body;
    const result = await inviteUser(auth, { email, password, role: role ?? "user" }, adminActor(request));
    if (!result.ok) {
      if (result.error === "invalid_email") return sendError(reply, "invalid_request", `Invalid body: email is ${result.message}`);
      return sendError(reply, result.error, result.error === "weak_password" ? `The ${result.message}.` : undefined);
    }
    return reply.code(201).send(await view(result.user));
  });

  api.get("/api/admin/users/:id", {
    schema: { summary: "One user", tags: ["admin"], security, params: UserParams, response: { 200: UserSchema, ...errors } },
  }, async (request, reply) => {
    const row = await findUserById(auth.database.db, request.params.id);
    return row ? await view(row) : sendError(reply, "not_found", "No user with this id.");
  });

  type Outcome = { ok: true; user: UserRow } | { ok: false; error: "not_found" | "last_admin" | "self" };
  const answer = async (reply: FastifyReply, result: Outcome) => {
    if (result.ok) return reply.send(await view(result.user));
    if (result.error === "not_found") return sendError(reply, "not_found", "No user with this id.");
    return sendError(reply, result.error === "self" ? "cannot_disable_self" : "last_admin");
  };

  api.post("/api/admin/users/:id/unlock", {
    schema: {
      summary: "Clear a temporary lock and the failure counters (a disabled account stays disabled)",
      tags: ["admin"], security, params: UserParams, response: { 200: UserSchema, ...errors },
    },
  }, async (request, reply) => answer(reply, await unlockUser(auth, request.params.id, adminActor(request))));

  api.post("/api/admin/users/:id/enable", {
    schema: {
      summary: "Re-enable a disabled account with fresh counters",
      tags: ["admin"], security, params: UserParams, response: { 200: UserSchema, ...errors },
    },
  }, async (request, reply) => answer(reply, await enableUser(auth, request.params.id, adminActor(request))));

  api.post("/api/admin/users/:id/disable", {
    schema: {
      summary: "Disable an account and end its sessions, with an optional note (409 last_admin, 409 cannot_disable_self)",
      tags: ["admin"], security, params: UserParams, body: DisableBody, response: { 200: UserSchema, ...errors },
    },
  }, async (request, reply) =>
    answer(reply, await disableUser(auth, request.params.id, adminActor(request), { note: request.body?.note })));
}
