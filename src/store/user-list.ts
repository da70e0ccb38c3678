import { sql, type Kysely, type SelectQueryBuilder } from "kysely";
import { dialectOfDb } from "./dialect.ts";
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

/** Rows an e-mail search reads in e-mail order before it asks the trigram index instead. */
export const SEARCH_PROBE_ROWS = 5_000;
/** Trigram indexes only help a search of at least three characters. */
const TRIGRAM = 3;

type UserSelect = SelectQueryBuilder<Schema, "users", UserRow>;

/**
 * The filters, each matching an index in e-mail order: "locked" walks `users_locked_email`
 * (locked, not disabled), "disabled" `users_disabled_email`, the rest the unique e-mail index;
 * `email > after` is the keyset, so page n costs what page 1 does.
 */
function filtered(db: Kysely<Schema>, query: UserListQuery): UserSelect {
  let select = db.selectFrom("users").selectAll();
  if (query.status === "disabled") select = select.where("disabled_reason", "is not", null);
  if (query.status === "locked") {
    select = select.where("disabled_reason", "is", null).where("locked_until", "is not", null).where("locked_until", ">", query.now);
  }
  if (query.status === "active") {
    select = select.where("disabled_reason", "is", null)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", query.now)]));
  }
  if (query.after !== undefined) select = select.where("email", ">", query.after);
  return select;
}

function likePattern(q: string): string {
  return `%${escapeLike(q)}%`;
}

/** The statement of a page without a search (exported so tests can EXPLAIN it). */
export function listPageQuery(db: Kysely<Schema>, query: UserListQuery): UserSelect {
  return page(filtered(db, query), query.limit);
}

function page(select: UserSelect, limit: number | undefined): UserSelect {
  const ordered = select.orderBy("email", "asc");
  return limit === undefined ? ordered : ordered.limit(limit);
}

/**
 * Lists users by e-mail; "locked" means locked now, evaluated in SQL so nothing is written.
 * A search `q` keeps its meaning (a substring of the e-mail) on both dialects. PostgreSQL has
 * a pg_trgm index and a planner that weighs it. SQLite first reads up to SEARCH_PROBE_ROWS
 * users in order: a common substring fills the page there; a rare one is then looked up in
 * the FTS5 trigram index, whose few matches are sorted.
 */
export async function listUsers(db: Kysely<Schema>, query: UserListQuery): Promise<UserRow[]> {
  const q = query.q?.trim().toLowerCase() ?? "";
  // SQLite has no default LIKE escape character, so name one for both dialects.
  const matches = sql<boolean>`email LIKE ${likePattern(q)} ESCAPE '\\'`;
  if (q === "") return listPageQuery(db, query).execute();
  if (dialectOfDb(db) === "postgres" || q.length < TRIGRAM || query.limit === undefined) {
    return page(filtered(db, query).where(matches), query.limit).execute();
  }
  const probed = await db.selectFrom(page(filtered(db, query), SEARCH_PROBE_ROWS).as("u"))
    .selectAll().where(matches).orderBy("email", "asc").limit(query.limit).execute();
  if (probed.length === query.limit) return probed;
  // A phrase of the trigram tokenizer matches any substring (quotes doubled), whatever
  // LIKE's special characters it holds; the LIKE then keeps the exact meaning.
  const phrase = `"${q.replace(/"/g, '""')}"`;
  const indexed = sql<boolean>`id IN (SELECT user_id FROM user_search_ids WHERE n IN
    (SELECT rowid FROM users_email_search WHERE users_email_search MATCH ${phrase}))`;
  return page(filtered(db, query).where(matches).where(indexed), query.limit)
    .execute();
}
