import { readFileSync } from "node:fs";
import type { EntityKeyVersion } from "../entity-key";
import { DynamoOnlineStore } from "./dynamodb";
import { EmbeddedOnlineStore } from "./embedded";
import { isClusterUrl, RedisOnlineStore } from "./redis";
import type { OnlineStore, OnlineStoreOptions } from "./store";

/**
 * Opens an online store from its URL:
 *   `redis://[:password@]host:port[/db][?keyTtlSeconds=N]`, `rediss://...[?tlsCa=<PEM file>]` (TLS),
 *   `redis+cluster://[:password@]host:port[,host:port...]` (`rediss+cluster://`): a Redis Cluster,
 *   `dynamodb://<region>[?endpoint=URL][&tableNameTemplate={project}.{table_name}]`,
 *   `embedded` (in-process), `embedded:<file>` (in-process, saved on close).
 * Redis and DynamoDB take `entityKeySerializationVersion=2` for a store an older Feast repo wrote
 * (Feast's `entity_key_serialization_version`; default 3).
 */
export async function openOnlineStore(url: string, options: OnlineStoreOptions = {}): Promise<OnlineStore> {
  const entityKeyVersion = (parsed: URL): EntityKeyVersion => {
    const text = parsed.searchParams.get("entityKeySerializationVersion") ?? "3";
    if (text !== "2" && text !== "3")
      throw new Error(`online store "${url}": entityKeySerializationVersion=${text} is not supported; use 3 (Feast's default) or 2`);
    return Number(text) as EntityKeyVersion;
  };
  if (url === "embedded" || url === "embedded:") return new EmbeddedOnlineStore();
  if (url.startsWith("embedded:")) return new EmbeddedOnlineStore(url.slice("embedded:".length));
  if (url.startsWith("redis://") || url.startsWith("rediss://") || isClusterUrl(url)) {
    // A cluster URL lists several hosts, which URL cannot parse: read its options from the query alone.
    const parsed = isClusterUrl(url) ? new URL(`redis://cluster/?${url.split("?")[1] ?? ""}`) : new URL(url);
    const keyVersion = entityKeyVersion(parsed);
    const keyTtl = parsed.searchParams.get("keyTtlSeconds");
    const tlsCaFile = parsed.searchParams.get("tlsCa");
    parsed.search = "";
    const target = isClusterUrl(url) ? (url.split("?")[0] as string) : parsed.toString();
    let tlsCa: string | undefined;
    if (tlsCaFile) {
      try {
        tlsCa = readFileSync(tlsCaFile, "utf8");
      } catch (error) {
        throw new Error(
          `online store: tlsCa=${tlsCaFile} cannot be read (${(error as NodeJS.ErrnoException).code}); mount the server's CA certificate there`,
        );
      }
    }
    const store = new RedisOnlineStore(target, {
      ...options,
      keyTtlSeconds: keyTtl ? Number(keyTtl) : undefined,
      tlsCa,
      entityKeyVersion: keyVersion,
    });
    await store.connect();
    return store;
  }
  if (url.startsWith("dynamodb://")) {
    const parsed = new URL(url);
    if (!parsed.hostname) throw new Error(`online store "${url}": give the region, like dynamodb://us-east-1`);
    return new DynamoOnlineStore({
      ...options,
      region: parsed.hostname,
      endpoint: parsed.searchParams.get("endpoint") ?? undefined,
      tableNameTemplate: parsed.searchParams.get("tableNameTemplate") ?? undefined,
      entityKeyVersion: entityKeyVersion(parsed),
    });
  }
  throw new Error(
    `online store "${url}" is not supported; use redis://host:port, rediss://host:port, redis+cluster://host:port,host:port, dynamodb://<region>[?endpoint=URL] or embedded`,
  );
}
