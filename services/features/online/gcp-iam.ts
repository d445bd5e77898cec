import { Cluster, type Redis, type RedisOptions } from "ioredis";

/**
 * IAM authentication to Memorystore for Redis Cluster (`?auth=gcp-iam` on the store URL). The
 * cluster has no AUTH string: a client sends `AUTH default <OAuth access token>` of a principal
 * holding roles/redis.dbConnectionUser. In a GKE pod that is the Workload Identity service
 * account, whose token the metadata server hands out (GCE_METADATA_HOST overrides the host, as
 * Google's own client libraries read it). Tokens live about an hour, so the client refreshes at
 * half the remaining lifetime and puts the new token on every open connection (AUTH again) and on
 * every connection opened later; a refresh that fails keeps the current token and tries again.
 */
export interface AccessToken {
  token: string;
  expiresInMs: number;
}

export const METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token";

/** The metadata server's host (and port): GCE_METADATA_HOST when set, else GKE's. */
export function metadataHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.GCE_METADATA_HOST || "metadata.google.internal";
}

/** The metadata server's token answer; throws naming what is missing. */
export function parseTokenResponse(body: unknown): AccessToken {
  const { access_token: token, expires_in: expiresIn } = (body ?? {}) as { access_token?: unknown; expires_in?: unknown };
  if (typeof token !== "string" || token === "") throw new Error("metadata server answered no access_token");
  if (typeof expiresIn !== "number" || !(expiresIn > 0)) throw new Error(`metadata server answered expires_in=${String(expiresIn)}`);
  return { token, expiresInMs: expiresIn * 1000 };
}

/** When to fetch the next token: at half its remaining life, at least 1 s and at most 30 min away. */
export function refreshDelayMs(expiresInMs: number): number {
  return Math.min(30 * 60_000, Math.max(1000, expiresInMs / 2));
}

/** One token from the metadata server: each attempt bounded by `timeoutMs`, `attempts` tries in all. */
export async function fetchAccessToken(options: { timeoutMs: number; attempts?: number; host?: string }): Promise<AccessToken> {
  const url = `http://${options.host ?? metadataHost()}${METADATA_TOKEN_PATH}`;
  const attempts = options.attempts ?? 3;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, { headers: { "Metadata-Flavor": "Google" }, signal: AbortSignal.timeout(options.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return parseTokenResponse(await res.json());
    } catch (error) {
      last = error;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
  throw new Error(`online store: no IAM access token from ${url} after ${attempts} tries (${(last as Error).message})`);
}

/** What ioredis keeps per client: the options of each node, and (Cluster) the options new nodes copy. */
interface ClientInternals {
  options: RedisOptions;
  status: string;
  connectionPool?: { redisOptions?: RedisOptions };
}

/**
 * Puts `token` on a client: AUTH on each ready connection, and the password of every connection
 * opened later. ioredis has no credentials callback, and a Cluster copies its node options into its
 * connection pool when it is built, so the pool's copy is where new node connections read it.
 */
export function applyToken(client: Redis | Cluster, token: string): void {
  const internals = client as unknown as ClientInternals;
  const nodes = client instanceof Cluster ? client.nodes("all") : [client];
  if (client instanceof Cluster) {
    const pool = internals.connectionPool?.redisOptions;
    if (!pool)
      throw new Error("online store: this ioredis Cluster keeps no connectionPool.redisOptions; IAM tokens cannot reach new connections");
    Object.assign(pool, { username: "default", password: token });
  }
  for (const node of nodes) {
    Object.assign((node as unknown as ClientInternals).options, { username: "default", password: token });
    if (node.status === "ready") node.auth("default", token).catch(() => {});
  }
}

/** Keeps a client's token fresh until stop(). */
export class IamTokenAuth {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private started?: Promise<void>;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly fetchToken: () => Promise<AccessToken>,
  ) {}

  /**
   * Fetches the first token and applies it, once however often it is called; when that fails it
   * resolves anyway and keeps trying (calls fail with 503 meanwhile).
   */
  start(): Promise<void> {
    this.started ??= this.refresh();
    return this.started;
  }

  private async refresh(): Promise<void> {
    let delay: number;
    try {
      const { token, expiresInMs } = await this.fetchToken();
      if (this.stopped) return;
      applyToken(this.client, token);
      delay = refreshDelayMs(expiresInMs);
    } catch {
      delay = 1000;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
