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
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: FeaturesClientOptions) {
    this.url = `${options.url.replace(/\/$/, "")}/get-online-features`;
    this.timeoutMs = options.timeoutMs ?? 200;
  }

  async get(featureService: string, entities: EntityRows): Promise<OnlineFeaturesResponse> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ feature_service: featureService, entities, full_feature_names: false }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      const reason = name === "TimeoutError" || name === "AbortError" ? `no answer within ${this.timeoutMs} ms` : ((error as { cause?: Error }).cause?.message ?? (error as Error).message);
      throw new StoreUnavailableError(`features service at ${this.url}`, new Error(reason));
    }
    const text = await response.text();
    let body: (OnlineFeaturesResponse & { error?: string; detail?: unknown }) | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status >= 500) throw new StoreUnavailableError(`features service at ${this.url}`, new Error(`HTTP ${response.status}: ${body?.error ?? text.slice(0, 200)}`));
    if (response.status >= 400) {
      // The features service rejected our entity rows (unknown join key, wrong type): the caller's input is at fault.
      const reason = body?.error ?? (typeof body?.detail === "string" ? body.detail : text.slice(0, 300));
      throw new HttpError(400, `the features service rejected the entities: ${reason}`, { featureService });
    }
    if (!body || !Array.isArray(body.metadata?.feature_names) || !Array.isArray(body.results)) {
      throw new StoreUnavailableError(`features service at ${this.url}`, new Error(`answer is not a Feast online response: ${text.slice(0, 200)}`));
    }
    return body;
  }
}
