import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Storage } from "@google-cloud/storage";

/**
 * One logged prediction, exactly as docs/prediction-log-format.md specifies (the drift service
 * reads this): one JSON object per line of a .jsonl file.
 */
export interface PredictionRecord {
  /** ISO-8601 UTC, e.g. 2026-11-23T18:04:05.123Z. */
  timestamp: string;
  model: string;
  version: string;
  request_id: string;
  /** Join key -> value of the entity this row was predicted for; {} for raw-tensor requests. */
  entities: Record<string, string | number>;
  /** Short feature name -> value, in the model's input order. */
  features: Record<string, number | string | boolean | null>;
  /** Output name -> this row's value (a number, or numbers when the output has several per row). */
  outputs: Record<string, number | number[]>;
}

/** Where batches of records go. Each call writes complete files or objects (never partial ones). */
export interface PredictionLogSink {
  readonly description: string;
  write(records: PredictionRecord[]): Promise<void>;
}

/** Records of one model, version and UTC hour, with the relative path of the file they go to. */
export interface LogBatch {
  key: string;
  body: string;
  count: number;
}

/**
 * Names files `<model>/<YYYY-MM-DD>/<HH>/<version>-<pid>-<seq>.jsonl`. `seq` counts up from the
 * process start time in milliseconds, so a restarted container (whose process is again pid 1)
 * never reuses a name that its previous life wrote in the same hour.
 */
export class LogLayout {
  private seq: number;
  constructor(
    private readonly pid = process.pid,
    start = Date.now(),
  ) {
    this.seq = start;
  }

  /** Groups records by model, version and UTC hour of their timestamp: one file each. */
  batches(records: PredictionRecord[]): LogBatch[] {
    const groups = new Map<string, PredictionRecord[]>();
    for (const record of records) {
      const iso = record.timestamp;
      const dir = `${record.model}/${iso.slice(0, 10)}/${iso.slice(11, 13)}`;
      const group = `${dir}\u0000${record.version}`;
      const list = groups.get(group);
      if (list) list.push(record);
      else groups.set(group, [record]);
    }
    return [...groups.entries()].map(([group, list]) => {
      const [dir, version] = group.split("\u0000") as [string, string];
      return {
        key: `${dir}/${version}-${this.pid}-${this.seq++}.jsonl`,
        body: `${list.map((r) => JSON.stringify(r)).join("\n")}\n`,
        count: list.length,
      };
    });
  }
}

/** JSONL files under a local directory; each is written under a dot-prefixed temporary name and renamed when complete. */
export class FileLogSink implements PredictionLogSink {
  readonly description: string;
  constructor(
    private readonly root: string,
    private readonly layout = new LogLayout(),
  ) {
    this.description = `files under ${root}`;
  }

  async write(records: PredictionRecord[]): Promise<void> {
    for (const batch of this.layout.batches(records)) {
      const path = join(this.root, batch.key);
      const slash = path.lastIndexOf("/");
      const dir = path.slice(0, slash);
      // Readers list *.jsonl: the temporary name neither matches nor can be half-read after the rename (atomic within a file system).
      const temporary = `${dir}/.${path.slice(slash + 1)}.tmp`;
      await mkdir(dir, { recursive: true });
      await writeFile(temporary, batch.body);
      await rename(temporary, path);
    }
  }
}

/** Puts whole objects; a single PUT is atomic in S3 and GCS, so readers never see part of one. */
export interface ObjectWriter {
  readonly description: string;
  put(key: string, body: string): Promise<void>;
}

export class S3ObjectWriter implements ObjectWriter {
  readonly description: string;
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.description = `s3://${bucket}`;
  }
  async put(key: string, body: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: "application/x-ndjson" }), {
      abortSignal: AbortSignal.timeout(this.timeoutMs),
    });
  }
}

export class GcsObjectWriter implements ObjectWriter {
  readonly description: string;
  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.description = `gs://${bucket}`;
  }
  async put(key: string, body: string): Promise<void> {
    await this.storage
      .bucket(this.bucket)
      .file(key)
      .save(body, { contentType: "application/x-ndjson", resumable: false, timeout: this.timeoutMs });
  }
}

/** Objects with the same key layout as the files, under an optional prefix. */
export class ObjectLogSink implements PredictionLogSink {
  readonly description: string;
  constructor(
    private readonly writer: ObjectWriter,
    private readonly prefix = "",
    private readonly layout = new LogLayout(),
  ) {
    this.description = `objects under ${writer.description}/${prefix}`;
  }

  async write(records: PredictionRecord[]): Promise<void> {
    const base = this.prefix.replace(/^\/+|\/+$/g, "");
    for (const batch of this.layout.batches(records)) await this.writer.put(base ? `${base}/${batch.key}` : batch.key, batch.body);
  }
}

/** `--log-dir` value -> sink: a local directory, s3://bucket[/prefix] or gs://bucket[/prefix]. */
export async function sinkFor(target: string, clients: { s3?: S3Client; gcs?: Storage } = {}): Promise<PredictionLogSink> {
  const match = /^(s3|gs):\/\/([^/]+)\/?(.*)$/.exec(target);
  if (!match) return new FileLogSink(target);
  const [, scheme, bucket, prefix] = match as unknown as [string, string, string, string];
  if (scheme === "s3") {
    const { S3Client } = await import("@aws-sdk/client-s3");
    return new ObjectLogSink(new S3ObjectWriter(clients.s3 ?? new S3Client({}), bucket), prefix);
  }
  const { Storage } = await import("@google-cloud/storage");
  return new ObjectLogSink(new GcsObjectWriter(clients.gcs ?? new Storage(), bucket), prefix);
}
