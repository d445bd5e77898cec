/**
 * Reads a time window of the serving service's prediction logs. Layout (shared with serving):
 *   <root>/<model>/<YYYY-MM-DD>/<HH>/<version>-<pid>-<seq>.jsonl   (UTC date and hour)
 * one JSON object per line: {timestamp, model, version, request_id, entities, features, outputs}.
 * The root is a local directory, `s3://bucket/prefix` or `gs://bucket/prefix`; the key listing
 * (which hour folders a window touches, which names are log files) is one pure function shared
 * by every store, so only `list` and `read` differ per backend.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { type Table, TableBuilder } from "./table";

export interface TimeWindow {
  start: Date;
  end: Date;
}

/** What a log read found, for the report and for people: nothing is dropped silently. */
export interface LogReadStats {
  files: number;
  records: number;
  malformed: number;
  outsideWindow: number;
  otherModel: number;
}

/** A store of log objects addressed by `/`-separated keys relative to the log root. */
export interface LogStore {
  /** Keys (relative to the root) that start with `prefix`. */
  list(prefix: string): Promise<string[]>;
  read(key: string): Promise<string>;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `<model>/<YYYY-MM-DD>/<HH>/` for every UTC hour that overlaps [start, end). */
export function hourPrefixes(model: string, window: TimeWindow): string[] {
  const prefixes: string[] = [];
  const hour = new Date(window.start);
  hour.setUTCMinutes(0, 0, 0);
  for (let t = hour.getTime(); t < window.end.getTime(); t += 3600_000) {
    const d = new Date(t);
    prefixes.push(`${model}/${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`);
  }
  return prefixes;
}

/** `<version>-<pid>-<seq>.jsonl` directly inside an hour folder (the version may itself contain dashes). */
export function isLogKey(key: string, prefix: string): boolean {
  if (!key.startsWith(prefix)) return false;
  const name = key.slice(prefix.length);
  return !name.includes("/") && /^.+-\d+-\d+\.jsonl$/.test(name);
}

/** Every log file key of the model in the window, in time order. */
export async function listWindowKeys(store: LogStore, model: string, window: TimeWindow): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of hourPrefixes(model, window)) {
    const listed = await store.list(prefix);
    keys.push(...listed.filter((k) => isLogKey(k, prefix)).sort());
  }
  return keys;
}

interface LogRecord {
  timestamp?: unknown;
  model?: unknown;
  features?: unknown;
}

/** Adds the features of the records in one file that fall in the window; bad lines are counted, not fatal. */
export function parseLogText(text: string, model: string, window: TimeWindow, stats: LogReadStats, into: TableBuilder): void {
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      stats.malformed++;
      continue;
    }
    const time = typeof record?.timestamp === "string" ? Date.parse(record.timestamp) : Number.NaN;
    if (!record || typeof record.features !== "object" || record.features === null || Number.isNaN(time)) {
      stats.malformed++;
      continue;
    }
    if (record.model !== undefined && record.model !== model) {
      stats.otherModel++;
      continue;
    }
    if (time < window.start.getTime() || time >= window.end.getTime()) {
      stats.outsideWindow++;
      continue;
    }
    stats.records++;
    into.add(record.features as Record<string, unknown>);
  }
}

/** A local directory as a LogStore. */
export function localStore(root: string): LogStore {
  return {
    async list(prefix) {
      const dir = join(root, prefix);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
      return readdirSync(dir).map((name) => `${prefix}${name}`);
    },
    async read(key) {
      return readFileSync(join(root, key), "utf8");
    },
  };
}

/** `s3://bucket/prefix` -> S3 through @aws-sdk/client-s3 (credentials from the default chain: IRSA in the cluster). */
export async function s3Store(bucket: string, rootPrefix: string, clientConfig: S3ClientConfig = {}): Promise<LogStore> {
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({ maxAttempts: 3, requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 }, ...clientConfig });
  const base = rootPrefix ? `${rootPrefix.replace(/\/$/, "")}/` : "";
  return {
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: base + prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(base.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: base + key }));
      return (await object.Body?.transformToString("utf8")) ?? "";
    },
  };
}

/** `gs://bucket/prefix` -> GCS through @google-cloud/storage (Workload Identity in the cluster). */
export async function gcsStore(bucketName: string, rootPrefix: string): Promise<LogStore> {
  const { Storage } = await import("@google-cloud/storage");
  const bucket = new Storage({ retryOptions: { maxRetries: 3 } }).bucket(bucketName);
  const base = rootPrefix ? `${rootPrefix.replace(/\/$/, "")}/` : "";
  return {
    async list(prefix) {
      const [files] = await bucket.getFiles({ prefix: base + prefix });
      return files.map((f) => f.name.slice(base.length));
    },
    async read(key) {
      const [content] = await bucket.file(base + key).download();
      return content.toString("utf8");
    },
  };
}

/** Splits `s3://bucket/some/prefix` into its parts; undefined for a local path. */
export function parseStoreUrl(source: string): { scheme: "s3" | "gs"; bucket: string; prefix: string } | undefined {
  const match = /^(s3|gs):\/\/([^/]+)\/?(.*)$/.exec(source);
  if (!match) return undefined;
  return { scheme: match[1] as "s3" | "gs", bucket: match[2]!, prefix: match[3]! };
}

export async function openLogStore(source: string): Promise<LogStore> {
  const url = parseStoreUrl(source);
  if (!url) {
    if (!existsSync(source)) throw new Error(`${source}: prediction log directory not found`);
    return localStore(source);
  }
  return url.scheme === "s3" ? s3Store(url.bucket, url.prefix) : gcsStore(url.bucket, url.prefix);
}

/** The features of every logged prediction of `model` in the window, as a Table. */
export async function readLogWindow(store: LogStore, model: string, window: TimeWindow): Promise<{ table: Table; stats: LogReadStats }> {
  if (!(window.end.getTime() > window.start.getTime()))
    throw new Error(`the log window is empty: start ${window.start.toISOString()} is not before end ${window.end.toISOString()}`);
  const stats: LogReadStats = { files: 0, records: 0, malformed: 0, outsideWindow: 0, otherModel: 0 };
  // Files are read one at a time and kept as columns only: memory is the window's values, not its JSON.
  const builder = new TableBuilder();
  for (const key of await listWindowKeys(store, model, window)) {
    stats.files++;
    parseLogText(await store.read(key), model, window, stats, builder);
  }
  return { table: builder.build(), stats };
}
