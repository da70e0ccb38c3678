import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { importUsers, type AuthContext } from "../../auth/index.ts";
import { adminActor, requireAdmin } from "../admin-guard.ts";
import { sendError } from "../errors.ts";
import { ErrorSchema } from "../schemas.ts";

export interface AdminImportRouteDeps {
  readonly auth: AuthContext;
}

/** About 300,000 lines of a typical export: larger files go through `deadbolt user import`. */
export const IMPORT_BODY_LIMIT_BYTES = 48 * 1024 * 1024;
/** The body is the JSON-lines file itself, exactly what `deadbolt user import` reads. */
export const IMPORT_MEDIA_TYPES = ["application/x-ndjson", "application/jsonl", "text/plain"] as const;

const Counts = {
  imported: Type.Integer(),
  skipped: Type.Integer(),
  invalid: Type.Integer(),
};
const Problem = Type.Object({ line: Type.Integer(), message: Type.String() });

export async function adminImportRoutes(app: FastifyInstance, deps: AdminImportRouteDeps): Promise<void> {
  const { auth } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", requireAdmin(auth));
  // Encapsulated: these parsers serve only this plugin's route.
  app.addContentTypeParser(["application/x-ndjson", "application/jsonl"], { parseAs: "string", bodyLimit: IMPORT_BODY_LIMIT_BYTES },
    (_request, body, done) => done(null, body));

  api.post("/api/admin/users/import", {
    bodyLimit: IMPORT_BODY_LIMIT_BYTES,
    schema: {
      summary: "Import users from a JSON-lines body (application/x-ndjson): every line valid, or nothing is imported",
      description: "One object a line: {email, passwordHash?, role?, createdAt?}; hashes are argon2id/argon2i (PHC) or " +
        "bcrypt and are upgraded to argon2id at the next login. Existing e-mails are skipped. `dryRun=true` only validates.",
      tags: ["admin"],
      security: [{ bearer: [] }],
      querystring: Type.Object({ dryRun: Type.Optional(Type.Boolean({ default: false })) }),
      consumes: [...IMPORT_MEDIA_TYPES],
      response: {
        200: Type.Object({ ...Counts, dryRun: Type.Boolean() }),
        // A malformed request (invalid_request) has no counts: they are optional, or its 400 would fail to serialize (a 500).
        400: Type.Object({
          error: Type.String(), message: Type.String(), imported: Type.Optional(Counts.imported), skipped: Type.Optional(Counts.skipped),
          invalid: Type.Optional(Counts.invalid), problems: Type.Optional(Type.Array(Problem)),
        }),
        401: ErrorSchema, 403: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema,
      },
    },
  }, async (request, reply) => {
    if (typeof request.body !== "string") {
      return sendError(reply, "unsupported_media_type", `Send the JSON-lines file as ${IMPORT_MEDIA_TYPES.join(", ")}.`);
    }
    const dryRun = request.query.dryRun ?? false;
    const result = await importUsers(auth, request.body, { dryRun, actor: adminActor(request) });
    if (result.ok) return { imported: result.imported, skipped: result.skipped, invalid: 0, dryRun };
    return sendError(reply, "invalid_import",
      `${result.invalid} invalid line${result.invalid === 1 ? "" : "s"}; nothing was imported.`,
      { imported: 0, skipped: 0, invalid: result.invalid, problems: result.problems });
  });
}
