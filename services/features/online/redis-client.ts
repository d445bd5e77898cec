import { readFileSync } from "node:fs";
import calculateSlot from "cluster-key-slot";
import Redis, { type ChainableCommander, Cluster, type ClusterOptions, type RedisOptions } from "ioredis";
import { fetchAccessToken, IamTokenAuth } from "./gcp-iam";

/**
 * The one Redis client of the features service: Feast's hashes (redis.ts) and the tiles of
 * aggregated views (aggregations/redis-tiles.ts) share these options, so both fail fast (503)
 * and recover the same way, on one node or on a Redis Cluster.
 */
export interface RedisClientOptions {
  timeoutMs: number;
  /** PEM certificate(s) to trust for `rediss://` / `rediss+cluster://` (a private CA, e.g. Memorystore's). */
  tlsCa?: string;
  /** Authenticate with the pod's Google access token (Memorystore Cluster's IAM auth, `?auth=gcp-iam`), kept fresh. */
  iamAuth?: boolean;
  /**
   * Time out each command on its own after `timeoutMs` (ioredis' commandTimeout). Defaults to true.
   * A caller that bounds every call itself turns it off: ioredis arms and clears a timer per
   * command (a 100-entity lookup is 100 HMGETs), where one timer per pipeline gives the same 503.
   */
  perCommandTimeout?: boolean;
}

export function redisClient(url: string, options: RedisClientOptions): Redis | Cluster {
  const redisOptions: RedisOptions = {
    // Fail a call instead of queueing it while disconnected: the caller gets a 503 at once.
    enableOfflineQueue: false,
    ...(options.perCommandTimeout === false ? {} : { commandTimeout: options.timeoutMs }),
    connectTimeout: Math.max(options.timeoutMs, 1000),
    maxRetriesPerRequest: 1,
    // Reconnect quickly and keep trying, so service resumes within a second of Redis returning.
    retryStrategy: (times) => Math.min(50 * times, 500),
    lazyConnect: true,
    ...(options.tlsCa && url.startsWith("rediss://") ? { tls: { ca: options.tlsCa } } : {}),
  };
  const client = isClusterUrl(url) ? clusterClient(url, redisOptions, options.tlsCa) : new Redis(url, redisOptions);
  // Errors surface on calls; an unhandled 'error' event would only add noise while reconnecting.
  client.on("error", () => {});
  if (options.iamAuth) withIamAuth(client, options.timeoutMs);
  return client;
}

/**
 * With IAM auth, connect() (the stores' and ioredis' own reconnects) first waits for the first
 * token, bounded by the fetch's timeouts; "end" (closed for good: our retry strategies never give
 * up) stops the refresh timer.
 */
function withIamAuth(client: Redis | Cluster, timeoutMs: number): void {
  const auth = new IamTokenAuth(client, () => fetchAccessToken({ timeoutMs: Math.max(timeoutMs, 1000) }));
  const connect = client.connect.bind(client);
  Object.assign(client, {
    connect: async () => {
      await auth.start();
      return connect();
    },
  });
  client.once("end", () => auth.stop());
}

/** A Redis URL split into the client's target, its options, and the query parameters the stores read. */
export function parseRedisUrl(url: string): { target: string; params: URLSearchParams; tlsCa?: string; iamAuth?: boolean } {
  // A cluster URL lists several hosts, which URL cannot parse: read its options from the query alone.
  const parsed = isClusterUrl(url) ? new URL(`redis://cluster/?${url.split("?")[1] ?? ""}`) : new URL(url);
  const params = new URLSearchParams(parsed.searchParams);
  const tlsCaFile = params.get("tlsCa");
  const auth = params.get("auth");
  if (auth !== null && auth !== "gcp-iam")
    throw new Error(
      `online store: auth=${auth} is not supported; use auth=gcp-iam (Memorystore Cluster's IAM auth) or put the password in the URL`,
    );
  const iamAuth = auth === "gcp-iam" ? { iamAuth: true } : {};
  parsed.search = "";
  const target = isClusterUrl(url) ? (url.split("?")[0] as string) : parsed.toString();
  if (!tlsCaFile) return { target, params, ...iamAuth };
  try {
    return { target, params, tlsCa: readFileSync(tlsCaFile, "utf8"), ...iamAuth };
  } catch (error) {
    throw new Error(
      `online store: tlsCa=${tlsCaFile} cannot be read (${(error as NodeJS.ErrnoException).code}); mount the server's CA certificate there`,
    );
  }
}

export function isRedisUrl(url: string): boolean {
  return url.startsWith("redis://") || url.startsWith("rediss://") || isClusterUrl(url);
}

/**
 * Sends `count` commands straight on the client, not through an ioredis Pipeline, and resolves
 * with their replies in order (rejects with the first failure). A Pipeline defines its `length`
 * getter on each instance, a fresh closure over the pipeline, and that getter is reached from
 * V8's old space: every scavenge then keeps the pipeline alive and moves it to old space with
 * everything it holds (its commands, their replies), about 4 KB per lookup, until the next
 * mark-compact. On one node the writes are corked, so the commands still leave in one write as a
 * pipeline's do; a Redis Cluster client routes each command to its slot's node (callers with
 * several keys on a cluster keep pipelineByShard: one write per shard).
 */
export function commandsAtOnce<T>(client: Redis | Cluster, count: number, send: (i: number) => Promise<T>): Promise<T[]> {
  const stream = count > 1 && !(client instanceof Cluster) ? client.stream : undefined;
  stream?.cork();
  const sent = new Array<Promise<T>>(count);
  try {
    for (let i = 0; i < count; i++) sent[i] = send(i);
  } finally {
    stream?.uncork();
  }
  return Promise.all(sent);
}

/**
 * Runs the commands of each key as one pipeline, or on a cluster one pipeline per node set of the
 * keys' slots, concurrently; replies come back in key order, one per key (its first failure, else
 * its first reply). `add` queues key i's command(s).
 */
export async function pipelineByShard(
  client: Redis | Cluster,
  keys: Buffer[],
  add: (pipeline: ChainableCommander, i: number) => void,
): Promise<[Error | null, unknown][]> {
  if (!(client instanceof Cluster)) {
    const pipeline = client.pipeline();
    for (let i = 0; i < keys.length; i++) add(pipeline, i);
    const results = (await pipeline.exec()) ?? [];
    const perKey = keys.length ? results.length / keys.length : 0;
    if (perKey === 1 || !Number.isInteger(perKey)) return results;
    return keys.map((_, i) => firstOf(results.slice(i * perKey, (i + 1) * perKey)));
  }
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const slot = calculateSlot(key);
    const group = client.slots[slot]?.join(",") ?? `slot ${slot}`;
    const members = groups.get(group);
    if (members) members.push(i);
    else groups.set(group, [i]);
  });
  const replies = new Array<[Error | null, unknown]>(keys.length);
  await Promise.all(
    [...groups.values()].map(async (members) => {
      const pipeline = client.pipeline();
      for (const i of members) add(pipeline, i);
      const results = (await pipeline.exec()) ?? [];
      // A key may queue several commands (HSET + EXPIRE): keep its first failure, else its first reply.
      const perKey = results.length / members.length;
      members.forEach((i, j) => {
        replies[i] = firstOf(results.slice(j * perKey, (j + 1) * perKey));
      });
    }),
  );
  return replies;
}

function firstOf(own: [Error | null, unknown][]): [Error | null, unknown] {
  return own.find(([error]) => error) ?? own[0] ?? [new Error("missing reply"), null];
}

/** `redis+cluster://` / `rediss+cluster://`: a Redis Cluster (ElastiCache cluster mode, Memorystore Cluster). */
export function isClusterUrl(url: string): boolean {
  return url.startsWith("redis+cluster://") || url.startsWith("rediss+cluster://");
}

/** The seed nodes and password of a cluster URL (`redis+cluster://[:password@]host:port,host:port`). */
export function clusterSeeds(url: string): { nodes: { host: string; port: number }[]; password?: string; tls: boolean } {
  const match = /^(rediss?)\+cluster:\/\/(?:([^:@/]*):([^@/]*)@)?([^/?]+)/.exec(url);
  if (!match) throw new Error(`online store "${url}": write a cluster as redis+cluster://[:password@]host:port[,host:port...]`);
  const [, scheme, , password, hosts = ""] = match;
  const nodes = hosts.split(",").map((hostPort) => {
    const [host = "", port = "6379"] = hostPort.split(":");
    if (!host || !/^\d+$/.test(port)) throw new Error(`online store "${url}": "${hostPort}" is not host:port`);
    return { host, port: Number(port) };
  });
  return { nodes, password: password ? decodeURIComponent(password) : undefined, tls: scheme === "rediss" };
}

function clusterClient(url: string, redisOptions: RedisOptions, tlsCa?: string): Cluster {
  const { nodes, password, tls } = clusterSeeds(url);
  const options: ClusterOptions = {
    // The same fail-fast rules as one node: no queue while the cluster is not ready, bounded retries.
    enableOfflineQueue: false,
    lazyConnect: true,
    maxRedirections: 4,
    retryDelayOnFailover: 50,
    retryDelayOnClusterDown: 100,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    slotsRefreshTimeout: redisOptions.connectTimeout,
    redisOptions: {
      ...redisOptions,
      lazyConnect: undefined,
      ...(password ? { password } : {}),
      ...(tls ? { tls: tlsCa ? { ca: tlsCa } : {} } : {}),
    },
    // ElastiCache's TLS certificates name the configuration endpoint; keep the names the cluster gives.
    ...(tls ? { dnsLookup: (address: string, callback: (error: Error | null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(nodes, options);
}
