import type { Dialect as KyselyDialect, QueryCompiler } from "kysely";
import { withoutNul } from "../text.ts";

/** The parameters with NUL taken out of every text, or null when none has one. */
export function nulFreeParameters(parameters: readonly unknown[]): readonly unknown[] | null {
  let changed: unknown[] | null = null;
  parameters.forEach((value, index) => {
    if (typeof value !== "string" || !value.includes("\u0000")) return;
    changed ??= [...parameters];
    changed[index] = withoutNul(value);
  });
  return changed;
}

/**
 * A dialect whose every compiled query carries no NUL in a text parameter (it becomes U+FFFD).
 * PostgreSQL refuses a NUL in text ("invalid byte sequence"), SQLite stores it: routes validate
 * input first, but whatever reaches a query anyway (a header, an imported line, a future
 * field) is then stored and compared the same on both dialects instead of answering 500.
 * Applied at compilation, so every query (builder, `sql` template, migration) passes here.
 */
export function withNulFreeText(dialect: KyselyDialect): KyselyDialect {
  return {
    createDriver: () => dialect.createDriver(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler(): QueryCompiler {
      const compiler = dialect.createQueryCompiler();
      return {
        compileQuery(node, queryId) {
          const query = compiler.compileQuery(node, queryId);
          const parameters = nulFreeParameters(query.parameters);
          return parameters === null ? query : Object.freeze({ ...query, parameters });
        },
      };
    },
  };
}
