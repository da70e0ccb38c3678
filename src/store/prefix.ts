import {
  AliasNode, IdentifierNode, ListNode, OperationNodeTransformer, TableNode,
  type CheckConstraintNode, type CreateIndexNode, type DropIndexNode, type ForeignKeyConstraintNode,
  type PrimaryKeyConstraintNode, type UniqueConstraintNode, type KyselyPlugin, type OperationNode, type PluginTransformQueryArgs,
  type PluginTransformResultArgs, type QueryId, type QueryResult, type ReferencesNode, type RootOperationNode,
  type SchemableIdentifierNode, type UnknownRow,
} from "kysely";

/** The node kinds that start a statement (the same set Kysely's WithSchemaPlugin scopes by). */
const ROOT_KINDS: ReadonlySet<string> = new Set([
  "SelectQueryNode", "InsertQueryNode", "UpdateQueryNode", "DeleteQueryNode", "MergeQueryNode",
  "CreateTableNode", "DropTableNode", "AlterTableNode", "CreateIndexNode", "DropIndexNode",
  "CreateViewNode", "DropViewNode", "RefreshMaterializedViewNode",
]);

/**
 * Renames the tables a statement names (FROM, INTO, UPDATE, JOIN, CREATE/ALTER/DROP TABLE,
 * foreign keys), and the names of indexes and constraints, to `prefix + name`, and column references qualified with them, but
 * not aliases (`users as other` keeps `other.id`). Names that already carry the prefix are left.
 */
class PrefixTransformer extends OperationNodeTransformer {
  readonly #prefix: string;
  readonly #scope = new Set<string>();

  constructor(prefix: string) {
    super();
    this.#prefix = prefix;
  }

  #renamed(name: string): string {
    return name.startsWith(this.#prefix) ? name : `${this.#prefix}${name}`;
  }

  protected override transformNodeImpl<T extends OperationNode>(node: T, queryId?: QueryId): T {
    if (!ROOT_KINDS.has(node.kind)) return super.transformNodeImpl(node, queryId);
    const added = [...this.#tablesOf(node as unknown as RootOperationNode)].filter((name) => !this.#scope.has(name));
    for (const name of added) this.#scope.add(name);
    try {
      return super.transformNodeImpl(node, queryId);
    } finally {
      for (const name of added) this.#scope.delete(name);
    }
  }

  protected override transformSchemableIdentifier(node: SchemableIdentifierNode, queryId?: QueryId): SchemableIdentifierNode {
    const transformed = super.transformSchemableIdentifier(node, queryId);
    if (transformed.schema || !this.#scope.has(node.identifier.name)) return transformed;
    return { ...transformed, identifier: IdentifierNode.create(this.#renamed(node.identifier.name)) };
  }

  protected override transformReferences(node: ReferencesNode, queryId?: QueryId): ReferencesNode {
    const transformed = super.transformReferences(node, queryId);
    const name = transformed.table.table.identifier.name;
    return transformed.table.table.schema ? transformed : { ...transformed, table: TableNode.create(this.#renamed(name)) };
  }

  // Index names share one namespace per database (SQLite) or schema (PostgreSQL) with tables.
  protected override transformCreateIndex(node: CreateIndexNode, queryId?: QueryId): CreateIndexNode {
    const transformed = super.transformCreateIndex(node, queryId);
    return { ...transformed, name: IdentifierNode.create(this.#renamed(node.name.name)) };
  }

  protected override transformDropIndex(node: DropIndexNode, queryId?: QueryId): DropIndexNode {
    const transformed = super.transformDropIndex(node, queryId);
    const name = transformed.name;
    return { ...transformed, name: { ...name, identifier: IdentifierNode.create(this.#renamed(name.identifier.name)) } };
  }

  // PostgreSQL names the index behind a primary key or unique constraint after the constraint.
  #renamedConstraint<T extends { readonly name?: IdentifierNode }>(node: T): T {
    return node.name === undefined ? node : { ...node, name: IdentifierNode.create(this.#renamed(node.name.name)) };
  }

  protected override transformPrimaryKeyConstraint(node: PrimaryKeyConstraintNode, queryId?: QueryId): PrimaryKeyConstraintNode {
    return this.#renamedConstraint(super.transformPrimaryKeyConstraint(node, queryId));
  }

  protected override transformUniqueConstraint(node: UniqueConstraintNode, queryId?: QueryId): UniqueConstraintNode {
    return this.#renamedConstraint(super.transformUniqueConstraint(node, queryId));
  }

  protected override transformForeignKeyConstraint(node: ForeignKeyConstraintNode, queryId?: QueryId): ForeignKeyConstraintNode {
    return this.#renamedConstraint(super.transformForeignKeyConstraint(node, queryId));
  }

  protected override transformCheckConstraint(node: CheckConstraintNode, queryId?: QueryId): CheckConstraintNode {
    return this.#renamedConstraint(super.transformCheckConstraint(node, queryId));
  }

  #tablesOf(node: RootOperationNode): Set<string> {
    const names = new Set<string>();
    const add = (table: OperationNode | undefined): void => {
      if (table === undefined) return;
      if (TableNode.is(table)) {
        if (!table.table.schema) names.add(table.table.identifier.name);
      } else if (AliasNode.is(table)) add(table.node);
      else if (ListNode.is(table)) table.items.forEach(add);
      else if (table.kind === "UsingNode") (table as unknown as { tables: OperationNode[] }).tables.forEach(add);
    };
    const record = node as unknown as Record<string, unknown>;
    const from = record.from as { froms: OperationNode[] } | undefined;
    from?.froms.forEach(add);
    add(record.into as OperationNode | undefined);
    add(record.table as OperationNode | undefined);
    // ALTER TABLE … RENAME TO: the new name is a table of the same statement.
    add(record.renameTo as OperationNode | undefined);
    for (const join of (record.joins as { table: OperationNode }[] | undefined) ?? []) add(join.table);
    const using = record.using as (OperationNode & { table?: OperationNode }) | undefined;
    if (using !== undefined) add(using.kind === "JoinNode" ? using.table : using);
    return names;
  }
}

/**
 * A Kysely plugin that keeps deadbolt's tables beside an application's own, under a prefix:
 * every query of the service's store runs unchanged against `deadbolt_users`, `deadbolt_events`
 * and so on. Raw SQL fragments are not rewritten, which is why the store and its migrations
 * name tables through the query and schema builders only.
 *
 * @example const db = appDb.withPlugin(new TablePrefixPlugin("deadbolt_"));
 */
export class TablePrefixPlugin implements KyselyPlugin {
  readonly #transformer: PrefixTransformer;

  constructor(prefix: string) {
    this.#transformer = new PrefixTransformer(prefix);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
