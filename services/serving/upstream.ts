import { HttpError } from "../core";

/** How the serving service talks to an external runtime (Triton, a KServe V2 server, vLLM). */
export interface UpstreamOptions {
  /** Base URL, e.g. http://127.0.0.1:8000. */
  url: string;
  /** Deadline for one attempt, in ms. Defaults to 10 s. */
  timeoutMs?: number;
  /** Extra attempts after a retryable failure. Defaults to 2. */
  retries?: number;
  /** First backoff in ms; doubles each retry, with full jitter. Defaults to 50 ms. */
  backoffMs?: number;
  /** host:port of the runtime's V2 gRPC API (Triton's 8001), for requests that reach us over gRPC. */
  grpcTarget?: string;
}

/** 502/503 mean the runtime did not take the request (restarting, overloaded, a proxy in between lost it). */
const RETRYABLE_STATUS = new Set([502, 503]);

/** Connection-level failures: nothing reached the runtime, so sending again cannot run anything twice. */
function isConnectFailure(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    code === "UND_ERR_SOCKET" ||
    code === "EAI_AGAIN" ||
    code === "ENOTFOUND"
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends a request to the runtime with a per-attempt timeout and retries with exponential backoff
 * on connect errors and 502/503. Retrying is safe here: inference is a pure function of the
 * request (V2 infer, and OpenAI completions that produced no output), and only failures where
 * the runtime did not process the request are retried. A timeout is not retried: the runtime may
 * still be working on it, and a second copy would double its load when it is already slow.
 * Returns the first response that is not a 502/503; throws HttpError 503 when the runtime cannot
 * be reached or keeps refusing, and 504 when it does not answer in time.
 */
export async function callUpstream(
  options: UpstreamOptions,
  path: string,
  init: { method: string; body?: string | Uint8Array; headers?: Record<string, string> },
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 50;
  const url = `${options.url.replace(/\/$/, "")}${path}`;
  let lastFailure = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(Math.random() * backoffMs * 2 ** (attempt - 1));
    let response: Response;
    try {
      response = await fetch(url, {
        method: init.method,
        // A Buffer is a valid fetch body; lib.dom's BodyInit only lists ArrayBuffer-backed views.
        body: init.body as RequestInit["body"],
        headers: { "content-type": "application/json", ...init.headers },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === "TimeoutError" || name === "AbortError") {
        throw new HttpError(504, `runtime at ${options.url} did not answer ${init.method} ${path} within ${timeoutMs} ms`, {
          upstream: options.url,
        });
      }
      if (!isConnectFailure(error))
        throw new HttpError(502, `runtime at ${options.url} failed: ${(error as Error).message}`, { upstream: options.url });
      lastFailure = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      continue;
    }
    if (RETRYABLE_STATUS.has(response.status)) {
      lastFailure = `HTTP ${response.status} ${(await response.text()).slice(0, 200)}`.trim();
      continue;
    }
    return response;
  }
  throw new HttpError(503, `runtime at ${options.url} is unavailable after ${retries + 1} attempts: ${lastFailure}`, {
    upstream: options.url,
  });
}

/** Reads a JSON body; a runtime that answers something else is a 502 naming what came back. */
export async function upstreamJson<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new HttpError(502, `${what} answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}
