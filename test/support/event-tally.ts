import type { Database } from "../../src/store/index.ts";

/**
 * "type" or "type:reason" → how many events of that kind one e-mail address has. With
 * `lockoutOnly`, just the lockout's own trail (`login.*` and `account.*`), leaving out
 * notifications, devices and the like.
 */
export async function eventTally(
  database: Database, email: string, options: { lockoutOnly?: boolean } = {},
): Promise<Record<string, number>> {
  let query = database.db.selectFrom("events").select(["type", "details"]).where("email", "=", email);
  if (options.lockoutOnly === true) {
    query = query.where((eb) => eb.or([eb("type", "like", "login.%"), eb("type", "like", "account.%")]));
  }
  const tally: Record<string, number> = {};
  for (const row of await query.execute()) {
    const reason = (JSON.parse(row.details) as { reason?: unknown }).reason;
    const key = typeof reason === "string" ? `${row.type}:${reason}` : row.type;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}
