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
  /** Where a large body's buffer comes from (and goes back to once its request is answered); a fresh one each time without. */
  pool?: BodyBufferPool;
}

/** Large buffers are kept in classes of this many bytes, so bodies of about the same size share them. */
const POOL_GRANULE = 64 * 1024;

/**
 * Large body buffers for reuse. A 1 MiB binary request would otherwise allocate 1 MiB outside
 * V8's heap every time, and V8 answers that much external memory with garbage collections: on
 * the serving heap a mark-compact every few dozen requests, most of binary REST's cost beside a
 * bare echo server. A buffer goes back with release() once its request is answered, and is
 * handed out again only after that; at most `maxFreeBytes` are kept waiting.
 */
export class BodyBufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  /** @param maxFreeBytes most bytes kept for reuse; buffers released past it are left to the GC. Defaults to 32 MiB. */
  constructor(private readonly maxFreeBytes = 32 * 1024 * 1024) {}

  /** `n` bytes starting `pad` bytes into a pooled buffer (its contents are whatever was there). */
  acquire(n: number, pad: number): Buffer {
    const capacity = Math.ceil((pad + n) / POOL_GRANULE) * POOL_GRANULE;
    const reused = this.free.get(capacity)?.pop();
    if (reused) this.freeBytes -= capacity;
    const memory = reused ?? (Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer);
    return Buffer.from(memory, pad, n);
  }

  /** Takes back a buffer from acquire() whose request is answered; nothing may use it afterwards. */
  release(buffer: Buffer): void {
    const memory = buffer.buffer as ArrayBuffer;
    const capacity = memory.byteLength;
    if (capacity % POOL_GRANULE !== 0 || this.freeBytes + capacity > this.maxFreeBytes) return;
    const list = this.free.get(capacity) ?? [];
    // A second release of the same buffer must not let two requests share it.
    if (list.includes(memory)) return;
    list.push(memory);
    this.free.set(capacity, list);
    this.freeBytes += capacity;
  }
}

/**
 * Reads a request body into one buffer with a single copy per socket chunk: with a
 * Content-Length the buffer is allocated once up front (no chunk list, no concat), placed so that
 * `alignAt` is 8-byte aligned. Over `limit` is a 413 as soon as it is known; a body that ends
 * short of its Content-Length, or an aborted upload, is a 400.
 */
export function readBody(payload: Readable, options: ReadBodyOptions, done: (error: Error | null, body?: Buffer) => void): void {
  if (options.contentLength !== undefined && options.contentLength > options.limit) {
    done(tooLarge(options.limit));
    return;
  }
  new BodyRead(payload, options, done);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body is larger than the ${limit}-byte limit; send smaller batches`);
}

/**
 * A small body comes from node's shared buffer pool (a slab of its own per request would cost
 * the JSON route an allocation and a GC finalizer each time); its few binary bytes, if any, are
 * then copied, not viewed. Only a large one gets its own, aligned, buffer.
 */
function allocate(n: number, pad: number, pool: BodyBufferPool | undefined): Buffer {
  if (n < OWN_BUFFER_ABOVE) return Buffer.allocUnsafe(n);
  return pool ? pool.acquire(n, pad) : Buffer.allocUnsafeSlow(pad + n).subarray(pad);
}

/**
 * One body being read: its state in fields and its listeners bound methods, instead of seven
 * closures per request over shared variables (the JSON route reads a body on every request, and
 * under tsx each closure made also gets its name defined).
 */
class BodyRead {
  private readonly body: Buffer | undefined;
  private readonly chunks: Buffer[] = [];
  private readonly pad: number;
  private received = 0;
  private settled = false;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;
  private readonly onError: (error: Error) => void;

  constructor(
    private readonly payload: Readable,
    private readonly options: ReadBodyOptions,
    private readonly done: (error: Error | null, body?: Buffer) => void,
  ) {
    this.pad = alignmentPad(options.alignAt);
    // Known length: one buffer, filled as chunks arrive. Unknown (chunked): chunks, joined once at the end.
    this.body = options.contentLength !== undefined ? allocate(options.contentLength, this.pad, options.pool) : undefined;
    this.onData = this.data.bind(this);
    this.onEnd = this.end.bind(this);
    this.onError = this.error.bind(this);
    payload.on("data", this.onData);
    payload.on("end", this.onEnd);
    payload.on("error", this.onError);
    payload.resume();
  }

  private settle(error: Error | null, result?: Buffer): void {
    if (this.settled) return;
    this.settled = true;
    this.payload.removeListener("data", this.onData);
    this.payload.removeListener("end", this.onEnd);
    this.payload.removeListener("error", this.onError);
    this.done(error, result);
  }

  private data(chunk: Buffer): void {
    const { body } = this;
    if (this.received + chunk.length > this.options.limit) this.settle(tooLarge(this.options.limit));
    else if (body && this.received + chunk.length > body.length)
      this.settle(new HttpError(400, `request body is longer than its Content-Length of ${body.length} bytes`));
    else {
      if (body) chunk.copy(body, this.received);
      else this.chunks.push(chunk);
      this.received += chunk.length;
    }
  }

  private end(): void {
    const { body, received } = this;
    if (body && received !== body.length)
      this.settle(new HttpError(400, `request body has ${received} bytes, but its Content-Length says ${body.length}`));
    else if (body) this.settle(null, body);
    else {
      const joined = allocate(received, this.pad, this.options.pool);
      let at = 0;
      for (const chunk of this.chunks) at += chunk.copy(joined, at);
      this.settle(null, joined);
    }
  }

  private error(error: Error): void {
    this.settle(new HttpError(400, `request body could not be read: ${error.message}`));
  }
}
