import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { HttpError, StoreUnavailableError } from "../core";

/** Entity join key -> one value per row, as Feast's /get-online-features takes them. */
export type EntityRows = Record<string, Array<string | number>>;

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
    this.agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: 256 }) : new HttpAgent({ keepAlive: true, maxSockets: 256 });
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

  /** One POST with a deadline covering the whole exchange; the socket is destroyed when it passes. */
  private post(payload: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = this.send(
        this.url,
        {
          method: "POST",
          agent: this.agent,
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
      const timer = setTimeout(() => {
        const error = new Error("timed out");
        error.name = "TimeoutError";
        request.destroy(error);
      }, this.timeoutMs);
      request.on("error", (error: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(error.name === "TimeoutError" ? error : new Error(error.code ? `${error.code} ${error.message}` : error.message));
      });
      request.end(payload);
    });
  }
}
