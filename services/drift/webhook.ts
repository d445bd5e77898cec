/**
 * The retraining trigger: on dataset drift, one POST per check to a webhook (a retraining
 * pipeline, or Slack: the body carries a `text` field Slack's incoming webhooks display, plus the
 * full result for machines). Server errors, 429 and network failures are retried with
 * exponential backoff a bounded number of times; a 4xx is the caller's mistake and is not retried.
 */
import type { DriftResult } from "./check";

export interface WebhookOptions {
  /** Attempts in total, including the first. Defaults to 4. */
  attempts?: number;
  /** Delay before the first retry in ms, doubled after each. Defaults to 500. */
  backoffMs?: number;
  /** Per-attempt timeout in ms. Defaults to 10 s. */
  timeoutMs?: number;
  /** Where an attempt's outcome is reported (for logs). */
  onAttempt?: (attempt: number, outcome: string) => void;
}

export interface WebhookOutcome {
  delivered: boolean;
  attempts: number;
  status: number | null;
  error: string | null;
}

export function webhookText(result: DriftResult): string {
  const drifted = result.features.filter((f) => f.drifted).map((f) => f.name);
  const list = drifted.slice(0, 10).join(", ") + (drifted.length > 10 ? `, and ${drifted.length - 10} more` : "");
  return `:warning: Dataset drift for model ${result.model ?? "(unnamed)"}: ${result.counts.drifted} of ${result.counts.checked} features drifted (share ${result.drift_share.toFixed(2)} >= ${result.drift_share_threshold}). Drifted: ${list}.`;
}

export function webhookBody(result: DriftResult): string {
  return JSON.stringify({ text: webhookText(result), result }, (_k, v: unknown) =>
    typeof v === "number" && !Number.isFinite(v) ? null : v,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sendWebhook(url: string, result: DriftResult, options: WebhookOptions = {}): Promise<WebhookOutcome> {
  const attempts = options.attempts ?? 4;
  const backoff = options.backoffMs ?? 500;
  const body = webhookBody(result);
  let status: number | null = null;
  let error: string | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        options.onAttempt?.(attempt, `delivered (${status})`);
        return { delivered: true, attempts: attempt, status, error: null };
      }
      error = `HTTP ${status}`;
      options.onAttempt?.(attempt, error);
      if (status < 500 && status !== 429) return { delivered: false, attempts: attempt, status, error };
    } catch (e) {
      error = (e as Error).message;
      status = null;
      options.onAttempt?.(attempt, error);
    }
    if (attempt < attempts) await sleep(backoff * 2 ** (attempt - 1));
  }
  return { delivered: false, attempts, status, error };
}
