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
