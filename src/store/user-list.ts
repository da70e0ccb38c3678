import { sql, type Kysely } from "kysely";
import type { Schema } from "./schema.ts";
import type { UserRow } from "./users.ts";

export type StatusFilter = "active" | "locked" | "disabled";

export interface UserListQuery {
  readonly status?: StatusFilter;
  /** Case-insensitive substring of the e-mail. */
  readonly q?: string;
  readonly limit?: number;
  /** The e-mail of the last user of the previous page (users are ordered by e-mail). */
  readonly after?: string;
  readonly now: number;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Lists users by e-mail; "locked" means locked now, evaluated in SQL so nothing is written. */
export async function listUsers(db: Kysely<Schema>, query: UserListQuery): Promise<UserRow[]> {
  let select = db.selectFrom("users").selectAll();
  if (query.status === "disabled") select = select.where("disabled_reason", "is not", null);
  if (query.status === "locked") {
    select = select.where("disabled_reason", "is", null).where("locked_until", ">", query.now);
  }
  if (query.status === "active") {
    select = select.where("disabled_reason", "is", null)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", query.now)]));
  }
  if (query.q !== undefined && query.q !== "") {
    const pattern = `%${escapeLike(query.q.trim().toLowerCase())}%`;
    // SQLite has no default LIKE escape character, so name one for both dialects.
    select = select.where(sql<boolean>`email LIKE ${pattern} ESCAPE '\\'`);
  }
  if (query.after !== undefined) select = select.where("email", ">", query.after);
  select = select.orderBy("email", "asc");
  if (query.limit !== undefined) select = select.limit(query.limit);
  return select.execute();
}
