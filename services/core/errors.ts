/** An error with an HTTP status and a reason the client can act on. */
export class HttpError extends Error {
  readonly statusCode: number;
  /** Extra fields for the response body. */
  readonly details?: Record<string, unknown>;
  constructor(statusCode: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.details = details;
  }
}

/** A backing store (Redis, DynamoDB, a warehouse) is unreachable or timed out: answered with 503. */
export class StoreUnavailableError extends HttpError {
  constructor(store: string, cause: unknown) {
    super(503, `${store} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { store });
    this.name = "StoreUnavailableError";
  }
}

/** Runs a promise with a deadline; rejects with a clear message when it passes. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
