import type { Readable } from "node:stream";
import { HttpError } from "../core";

/** Widest element of any tensor type (INT64, UINT64, FP64): the alignment a typed-array view needs. */
export const TENSOR_ALIGNMENT = 8;

/**
 * Bytes to leave before a body so that its byte `at` lands on an 8-byte boundary: the binary
 * tail of a Triton binary-extension request starts right after its JSON header, and a tail that
 * starts aligned can be handed to onnxruntime as a typed-array view instead of a 1 MiB copy.
 */
export function alignmentPad(at: number): number {
  return (TENSOR_ALIGNMENT - (at % TENSOR_ALIGNMENT)) % TENSOR_ALIGNMENT;
}

/** Bodies this large or larger get a buffer of their own, aligned; smaller ones come from node's pool. */
export const OWN_BUFFER_ABOVE = 64 * 1024;

export interface ReadBodyOptions {
  /** The Content-Length header, when the client sent one (chunked bodies have none). */
  contentLength: number | undefined;
  /** Largest body in bytes: 413 above it. */
  limit: number;
  /** Body offset that must start on an 8-byte boundary (the binary tail's start); 0 when there is none. */
  alignAt: number;
}

/**
 * Reads a request body into one buffer with a single copy per socket chunk: with a
 * Content-Length the buffer is allocated once up front (no chunk list, no concat), placed so that
 * `alignAt` is 8-byte aligned. Over `limit` is a 413 as soon as it is known; a body that ends
 * short of its Content-Length, or an aborted upload, is a 400.
 */
export function readBody(payload: Readable, options: ReadBodyOptions, done: (error: Error | null, body?: Buffer) => void): void {
  const { contentLength, limit } = options;
  const tooLarge = () => new HttpError(413, `request body is larger than the ${limit}-byte limit; send smaller batches`);
  if (contentLength !== undefined && contentLength > limit) {
    done(tooLarge());
    return;
  }
  // A small body comes from node's shared buffer pool (a slab of its own per request would cost
  // the JSON route an allocation and a GC finalizer each time); its few binary bytes, if any, are
  // then copied, not viewed. Only a large one gets its own, aligned, buffer.
  const pad = alignmentPad(options.alignAt);
  const allocate = (n: number) => (n < OWN_BUFFER_ABOVE ? Buffer.allocUnsafe(n) : Buffer.allocUnsafeSlow(pad + n).subarray(pad));
  // Known length: one buffer, filled as chunks arrive. Unknown (chunked): chunks, joined once at the end.
  const body = contentLength !== undefined ? allocate(contentLength) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const settle = (error: Error | null, result?: Buffer) => {
    if (settled) return;
    settled = true;
    payload.removeListener("data", onData);
    payload.removeListener("end", onEnd);
    payload.removeListener("error", onError);
    done(error, result);
  };
  const onData = (chunk: Buffer) => {
    if (received + chunk.length > limit) return settle(tooLarge());
    if (body) {
      if (received + chunk.length > body.length)
        return settle(new HttpError(400, `request body is longer than its Content-Length of ${body.length} bytes`));
      chunk.copy(body, received);
    } else chunks.push(chunk);
    received += chunk.length;
  };
  const onEnd = () => {
    if (body) {
      if (received !== body.length)
        return settle(new HttpError(400, `request body has ${received} bytes, but its Content-Length says ${body.length}`));
      return settle(null, body);
    }
    const joined = allocate(received);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(joined, at);
    settle(null, joined);
  };
  const onError = (error: Error) => settle(new HttpError(400, `request body could not be read: ${error.message}`));
  payload.on("data", onData);
  payload.on("end", onEnd);
  payload.on("error", onError);
  payload.resume();
}
