import { Pool } from "undici";
import { HttpError, StoreUnavailableError } from "../core";

/** Entity join key -> one value per row, as Feast's /get-online-features takes them. */
/** Join key (or request field of an on-demand feature) -> one value per row. */
export type EntityRows = Record<string, Array<string | number | boolean | null>>;

/** Feast feature server's /get-online-features answer (feast.feature_server, OnlineResponse.to_dict style). */
export interface OnlineFeaturesResponse {
  metadata: { feature_names: string[] };
  /** One entry per name in metadata.feature_names (join keys first), each with one value per entity row. */
  results: Array<{ values: unknown[]; statuses: string[]; event_timestamps: string[] }>;
}

export interface FeaturesClientOptions {
  /** Base URL of the features service (or any Feast feature server), e.g. http://features:6566. */
  url: string;
  /** Deadline for one lookup, in ms. Defaults to 200 ms: features are on the latency budget of every prediction. */
  timeoutMs?: number;
}

/**
 * How long a pooled connection to the features service may sit idle before we close it: below the
 * 5 s keep-alive of uvicorn (Feast's feature server) and of node:http servers, which send no hint
 * or a short one, so the server is rarely the side that closes a socket we are about to reuse.
 * A server that announces a shorter `Keep-Alive: timeout` is honoured (undici, 1 s earlier).
 */
export const IDLE_SOCKET_MS = 4_000;

/** Most connections to the features service at once (one request each: no pipelining). */
const MAX_CONNECTIONS = 256;

/** Socket-level failures before any answer: the request never reached a handler, or its connection went away under it. */
const DROPPED = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_CLOSED"]);

/**
 * Reads a feature service's values for entity rows from the features service over HTTP, with
 * Feast's request `{"feature_service": ..., "entities": {...}}`. The features service owns the
 * online store (its adapters, key format and credentials); serving stays a stateless client.
 *
 * The client is undici's connection pool, not node:http or fetch: this call is on every
 * entity-keyed prediction, and on loopback undici's Pool costs about a third of node:http's CPU
 * per request and a fraction of its p99 (bench/serving.ts, the predict target of issue 17).
 */
export class FeaturesClient {
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly pool: Pool;

  constructor(options: FeaturesClientOptions) {
    this.url = new URL(`${options.url.replace(/\/$/, "")}/get-online-features`);
    this.timeoutMs = options.timeoutMs ?? 200;
    this.pool = new Pool(this.url.origin, {
      connections: MAX_CONNECTIONS,
      keepAliveTimeout: IDLE_SOCKET_MS,
      keepAliveTimeoutThreshold: 1_000,
      connect: { timeout: this.timeoutMs },
    });
  }

  async get(featureService: string, entities: EntityRows): Promise<OnlineFeaturesResponse> {
    const where = `features service at ${this.url.origin}`;
    let status: number;
    let text: string;
    try {
      ({ status, text } = await this.post(JSON.stringify({ feature_service: featureService, entities, full_feature_names: false })));
    } catch (error) {
      const reason = (error as Error).name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : (error as Error).message;
      throw new StoreUnavailableError(where, new Error(reason));
    }
    let body: (OnlineFeaturesResponse & { error?: string; detail?: unknown }) | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status >= 500) throw new StoreUnavailableError(where, new Error(`HTTP ${status}: ${body?.error ?? text.slice(0, 200)}`));
    if (status >= 400) {
      // The features service rejected our entity rows (unknown join key, wrong type): the caller's input is at fault.
      const reason = body?.error ?? (typeof body?.detail === "string" ? body.detail : text.slice(0, 300));
      throw new HttpError(400, `the features service rejected the entities: ${reason}`, { featureService });
    }
    if (!body || !Array.isArray(body.metadata?.feature_names) || !Array.isArray(body.results)) {
      throw new StoreUnavailableError(where, new Error(`answer is not a Feast online response: ${text.slice(0, 200)}`));
    }
    return body;
  }

  /** Closes the pooled connections (the server's close hook calls it). */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * One POST with a deadline covering the whole exchange (connect, headers and body); the request
   * is aborted when it passes. A connection the server dropped before answering (its keep-alive
   * ran out as we reused it) fails at once: the lookup is a read, so it is sent once more, on
   * another connection, within the same deadline, instead of failing a prediction.
   */
  private async post(payload: string): Promise<{ status: number; text: string }> {
    const abort = new AbortController();
    const timer = setTimeout(() => {
      const error = new Error("timed out");
      error.name = "TimeoutError";
      // Aborting an undici request in flight closes its connection: a late answer cannot land on the next lookup.
      abort.abort(error);
    }, this.timeoutMs);
    try {
      try {
        return await this.attempt(payload, abort.signal);
      } catch (error) {
        if (abort.signal.aborted || !DROPPED.has((error as { code?: string }).code ?? "")) throw error;
        return await this.attempt(payload, abort.signal);
      }
    } catch (error) {
      if (abort.signal.aborted) throw abort.signal.reason;
      const { code, message } = error as Error & { code?: string };
      throw new Error(code ? `${code} ${message}` : message);
    } finally {
      clearTimeout(timer);
    }
  }

  private async attempt(payload: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
    const response = await this.pool.request({
      path: this.url.pathname,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
      signal,
    });
    return { status: response.statusCode, text: await response.body.text() };
  }
}
