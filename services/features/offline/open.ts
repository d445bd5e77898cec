import { DuckDBOfflineStore } from "./duckdb";
import { PostgresOfflineStore } from "./postgres";
import type { OfflineStore } from "./store";

/**
 * Opens an offline store from its URL: `duckdb:<path>` (`duckdb::memory:` in memory),
 * `postgres://...`, `bigquery://<project>/<dataset>`, `redshift://<workgroup-or-cluster>/<database>`.
 */
export async function openOfflineStore(url: string): Promise<OfflineStore> {
  if (url.startsWith("duckdb:")) return DuckDBOfflineStore.open(url.slice("duckdb:".length) || ":memory:");
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return PostgresOfflineStore.open(url);
  if (url.startsWith("bigquery://")) {
    const { BigQueryOfflineStore } = await import("./bigquery");
    return BigQueryOfflineStore.fromUrl(url);
  }
  if (url.startsWith("redshift://")) {
    const { RedshiftOfflineStore } = await import("./redshift");
    return RedshiftOfflineStore.fromUrl(url);
  }
  throw new Error(
    `offline store "${url}" is not supported; use duckdb:<path>, postgres://..., bigquery://<project>/<dataset> or redshift://<workgroup-or-cluster>/<database>`,
  );
}

/**
 * An offline store opened on first use. A sharded run's pods all start with an offline store,
 * but only the one that exports uses it: the others never connect to the warehouse (and never
 * take a DuckDB file's lock, which one process at a time may hold).
 */
export function openOfflineStoreOnUse(url: string): OfflineStore & { readonly dialect: OfflineStore["dialect"] } {
  let opened: Promise<OfflineStore> | undefined;
  const store = () => {
    opened ??= openOfflineStore(url);
    return opened;
  };
  const dialect = url.startsWith("duckdb:")
    ? "duckdb"
    : url.startsWith("bigquery://")
      ? "bigquery"
      : url.startsWith("redshift://")
        ? "redshift"
        : "postgres";
  return {
    dialect,
    async *latestRows(view, features, start, end) {
      yield* (await store()).latestRows(view, features, start, end);
    },
    async *streamRows(query) {
      yield* (await store()).streamRows(query);
    },
    exportShards: async (request) => (await store()).exportShards(request),
    trainingSet: async (request) => (await store()).trainingSet(request),
    append: async (view, rows) => (await store()).append(view, rows),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}
