import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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
 * 5 s keep-alive of uvicorn (Feast's feature server) and of node:http servers, which send no
 * hint or a short one, so the server is never the side that closes a socket we are about to
 * reuse. Servers that announce a shorter `Keep-Alive: timeout` are honoured by node (1 s earlier).
 */
export const IDLE_SOCKET_MS = 4_000;

/**
 * Reads a feature service's values for entity rows from the features service over HTTP, with
 * Feast's request `{"feature_service": ..., "entities": {...}}`. The features service owns the
 * online store (its adapters, key format and credentials); serving stays a stateless client.
 */
export class FeaturesClient {
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;

  constructor(options: FeaturesClientOptions) {
    this.url = new URL(`${options.url.replace(/\/$/, "")}/get-online-features`);
    this.timeoutMs = options.timeoutMs ?? 200;
    const tls = this.url.protocol === "https:";
    // node:http with a keep-alive pool, not fetch: on loopback it answers in a quarter of fetch's time (bench/serving.ts), and this call is on every prediction.
    // The idle timeout is what makes node honour a server's Keep-Alive hint (it only ever lowers
    // the agent's own timeout, and without one keeps idle sockets forever); see IDLE_SOCKET_MS.
    const pool = { keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS };
    this.agent = tls ? new HttpsAgent(pool) : new HttpAgent(pool);
    this.send = tls ? (httpsRequest as typeof httpRequest) : httpRequest;
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

  /**
   * One POST with a deadline covering the whole exchange; the socket is destroyed when it passes.
   * A pooled socket the server closed while idle (its keep-alive ran out as we reused it) fails
   * at once with ECONNRESET or EPIPE before any answer: the lookup is a read, so it is sent again,
   * once, on a fresh connection, within the same deadline, instead of failing a prediction.
   */
  private post(payload: string): Promise<{ status: number; text: string }> {
    const deadline = Date.now() + this.timeoutMs;
    return this.attempt(payload, deadline).catch((error: Error & { reused?: boolean }) => {
      if (!error.reused || Date.now() >= deadline) throw error;
      return this.attempt(payload, deadline, true);
    });
  }

  private attempt(payload: string, deadline: number, fresh = false): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = this.send(
        this.url,
        {
          method: "POST",
          // The retry after a stale pooled socket opens its own connection, so it cannot meet another stale one.
          agent: fresh ? false : this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => {
            clearTimeout(timer);
            resolve({ status: response.statusCode ?? 0, text });
          });
          response.on("error", reject);
        },
      );
      const timer = setTimeout(
        () => {
          const error = new Error("timed out");
          error.name = "TimeoutError";
          request.destroy(error);
        },
        Math.max(0, deadline - Date.now()),
      );
      request.on("error", (error: Error & { code?: string }) => {
        clearTimeout(timer);
        if (error.name === "TimeoutError") return reject(error);
        const failed: Error & { reused?: boolean } = new Error(error.code ? `${error.code} ${error.message}` : error.message);
        // Node's own advice for keep-alive races (http docs, request.reusedSocket).
        failed.reused = request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE");
        reject(failed);
      });
      request.end(payload);
    });
  }
}
