import type { EntityKeyVersion } from "../entity-key";
import { DynamoOnlineStore } from "./dynamodb";
import { dynamoOptionsOf } from "./dynamodb-client";
import { EmbeddedOnlineStore } from "./embedded";
import { RedisOnlineStore } from "./redis";
import { isRedisUrl, parseRedisUrl } from "./redis-client";
import type { OnlineStore, OnlineStoreOptions } from "./store";

/**
 * Opens an online store from its URL:
 *   `redis://[:password@]host:port[/db][?keyTtlSeconds=N]`, `rediss://...[?tlsCa=<PEM file>]` (TLS),
 *   `redis+cluster://[:password@]host:port[,host:port...]` (`rediss+cluster://`): a Redis Cluster,
 *   `...?auth=gcp-iam`: AUTH with the pod's Google access token (Memorystore Cluster), refreshed,
 *   `dynamodb://<region>[?endpoint=URL][&tableNameTemplate={project}.{table_name}]`,
 *   `embedded` (in-process), `embedded:<file>` (in-process, saved on close).
 * Redis and DynamoDB take `entityKeySerializationVersion=2` for a store an older Feast repo wrote
 * (Feast's `entity_key_serialization_version`; default 3).
 */
export async function openOnlineStore(url: string, options: OnlineStoreOptions = {}): Promise<OnlineStore> {
  const entityKeyVersion = (params: URLSearchParams): EntityKeyVersion => {
    const text = params.get("entityKeySerializationVersion") ?? "3";
    if (text !== "2" && text !== "3")
      throw new Error(`online store "${url}": entityKeySerializationVersion=${text} is not supported; use 3 (Feast's default) or 2`);
    return Number(text) as EntityKeyVersion;
  };
  if (url === "embedded" || url === "embedded:") return new EmbeddedOnlineStore();
  if (url.startsWith("embedded:")) return new EmbeddedOnlineStore(url.slice("embedded:".length));
  if (isRedisUrl(url)) {
    const { target, params, tlsCa, iamAuth } = parseRedisUrl(url);
    const keyVersion = entityKeyVersion(params);
    const keyTtl = params.get("keyTtlSeconds");
    const store = new RedisOnlineStore(target, {
      ...options,
      keyTtlSeconds: keyTtl ? Number(keyTtl) : undefined,
      tlsCa,
      iamAuth,
      entityKeyVersion: keyVersion,
    });
    await store.connect();
    return store;
  }
  if (url.startsWith("dynamodb://")) {
    return new DynamoOnlineStore({ ...options, ...dynamoOptionsOf(url), entityKeyVersion: entityKeyVersion(new URL(url).searchParams) });
  }
  throw new Error(
    `online store "${url}" is not supported; use redis://host:port, rediss://host:port, redis+cluster://host:port,host:port, dynamodb://<region>[?endpoint=URL] or embedded`,
  );
}
