import type { Logger } from "../core";
import type { PredictionLogSink, PredictionRecord } from "./log-sinks";

export interface PredictionLogOptions {
  sink: PredictionLogSink;
  /** Share of requests logged for a model, 0..1 (the catalog's `logging.sampleRate`, or an override). */
  sampleRate: (model: string) => number;
  /** Records held in memory while the sink is busy; more are dropped and counted. Defaults to 10 000. */
  maxBuffered?: number;
  /** Records per write. Defaults to 1 000. */
  batchSize?: number;
  /** Longest a record waits before it is written, in ms. Defaults to 1 000. */
  flushIntervalMs?: number;
  /** Called for records dropped (buffer full, or the sink failed). */
  onDrop?: (model: string, version: string, count: number) => void;
  logger?: Logger;
  /** Random source for sampling (tests pass a seeded one). */
  random?: () => number;
}

/**
 * A sampled, batched log of predictions. The request path only decides whether to sample and
 * pushes a record into a bounded buffer (no I/O, no await); a timer writes batches to the sink
 * one at a time. When the sink is slower than the traffic the buffer fills and new records are
 * dropped and counted, so a slow bucket can never slow down or take down serving.
 */
export class PredictionLog {
  private buffer: PredictionRecord[] = [];
  private writing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: PredictionLogOptions) {
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.batchSize = options.batchSize ?? 1_000;
    this.random = options.random ?? Math.random;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  get description(): string {
    return this.options.sink.description;
  }

  /** Whether this request is in the sample; decide before building records, so unsampled requests cost nothing. */
  sampled(model: string): boolean {
    const rate = this.options.sampleRate(model);
    return rate >= 1 || (rate > 0 && this.random() < rate);
  }

  /** Queues records without waiting; drops (and counts) what does not fit. */
  add(records: PredictionRecord[]): void {
    if (this.closed) return;
    const room = this.maxBuffered - this.buffer.length;
    const kept = room >= records.length ? records : records.slice(0, Math.max(0, room));
    if (kept.length < records.length) this.dropped(records.slice(kept.length));
    for (const record of kept) this.buffer.push(record);
    if (this.buffer.length >= this.batchSize && !this.writing) setImmediate(() => void this.flush());
  }

  /** Writes everything buffered so far; resolves when it is in the sink. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      this.writing = this.options.sink.write(batch).catch((error: Error) => {
        this.options.logger?.error(
          { err: error, records: batch.length, sink: this.options.sink.description },
          "prediction log write failed; records dropped",
        );
        this.dropped(batch);
      });
      try {
        await this.writing;
      } finally {
        this.writing = undefined;
      }
    }
  }

  /** Stops the timer and flushes what is left (graceful shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  private dropped(records: PredictionRecord[]): void {
    const counts = new Map<string, number>();
    for (const r of records) counts.set(`${r.model}\u0000${r.version}`, (counts.get(`${r.model}\u0000${r.version}`) ?? 0) + 1);
    for (const [key, count] of counts) {
      const [model, version] = key.split("\u0000") as [string, string];
      this.options.onDrop?.(model, version, count);
    }
  }
}
