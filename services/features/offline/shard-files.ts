import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { SHARD_COLUMN, shardUri } from "./export";
import type { OfflineRow } from "./store";

/**
 * The writer's side of an export: the Parquet files of one shard, read in order, one file at a
 * time (a cloud file is downloaded, read and deleted before the next, so a pod's disk holds one
 * file, not the shard). Reading can start at a row offset (the shard's acknowledged rows), so a
 * resumed writer skips what it already wrote.
 */

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A shard's files: local paths, or object URIs to download first. */
interface ShardFile {
  name: string;
  /** A local path to read; for cloud objects, downloads it and returns the local path. */
  fetch(tmp: string): Promise<string>;
}

async function listShardFiles(uri: string, shard: number): Promise<ShardFile[]> {
  const prefix = shardUri(uri, shard);
  if (prefix.startsWith("s3://")) return listS3(prefix);
  if (prefix.startsWith("gs://")) return listGcs(prefix);
  const dir = prefix.replace(/^file:\/\//, "");
  // A shard with no rows has no directory (DuckDB writes partitions that hold rows).
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".parquet"))
    .sort()
    .map((f) => ({ name: join(dir, f), fetch: async () => join(dir, f) }));
}

function bucketAndKey(uri: string): { bucket: string; key: string } {
  const match = /^[a-z0-9]+:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`"${uri}" is not an object URI like s3://bucket/prefix`);
  return { bucket: match[1] as string, key: match[2] as string };
}

async function listS3(prefix: string): Promise<ShardFile[]> {
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const { writeFile } = await import("node:fs/promises");
  const client = new S3Client({ region: process.env.AWS_REGION, maxAttempts: 5 });
  const { bucket, key } = bucketAndKey(prefix);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key && /\.parquet$/.test(o.Key)) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort().map((k) => ({
    name: `s3://${bucket}/${k}`,
    fetch: async (tmp) => {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      const path = join(tmp, "shard.parquet");
      await writeFile(path, await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      return path;
    },
  }));
}

async function listGcs(prefix: string): Promise<ShardFile[]> {
  const { Storage } = await import("@google-cloud/storage");
  const { bucket, key } = bucketAndKey(prefix);
  const [files] = await new Storage({ retryOptions: { maxRetries: 5 } }).bucket(bucket).getFiles({ prefix: `${key}/` });
  return files
    .filter((f) => f.name.endsWith(".parquet"))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((f) => ({
      name: `gs://${bucket}/${f.name}`,
      fetch: async (tmp) => {
        const path = join(tmp, "shard.parquet");
        await f.download({ destination: path });
        return path;
      },
    }));
}

/**
 * Rows of one shard from `offset` on, in batches of about `batchRows`, columns as listed. The
 * order is the files' order and, inside a file, its row order: the same on every read, which is
 * what makes an offset a resume point.
 */
export async function* readShard(
  uri: string,
  shard: number,
  columns: string[],
  offset: number,
  batchRows: number,
): AsyncIterable<OfflineRow[]> {
  const files = await listShardFiles(uri, shard);
  const tmp = mkdtempSync(join(tmpdir(), "shard-"));
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone='UTC'");
    const select = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(", ");
    let before = 0;
    for (const file of files) {
      const path = await file.fetch(tmp);
      const rows = await parquetRows(connection, path);
      const skip = Math.max(0, offset - before);
      before += rows;
      if (skip >= rows) continue;
      const result = await connection.stream(
        `SELECT ${select} FROM read_parquet(${literal(path)}, hive_partitioning = false) LIMIT ${rows - skip} OFFSET ${skip}`,
      );
      let batch: OfflineRow[] = [];
      for await (const chunk of result.yieldRowObjectJs()) {
        batch = batch.length ? batch.concat(chunk as OfflineRow[]) : (chunk as OfflineRow[]);
        if (batch.length >= batchRows) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      if (path.startsWith(tmp)) rmSync(path, { force: true });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Rows of a Parquet file from its footer (no data read). */
async function parquetRows(connection: DuckDBConnection, path: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${literal(path)})`);
  return Number((reader.getRowObjectsJS()[0] as { num_rows: bigint }).num_rows);
}

/** Rows per shard of a local export, from the Parquet footers. */
export async function countLocalShards(connection: DuckDBConnection, uri: string, shards: number): Promise<number[]> {
  const rows = Array.from({ length: shards }, () => 0);
  for (let shard = 0; shard < shards; shard++) {
    const dir = shardUri(uri, shard);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((name) => name.endsWith(".parquet")))
      rows[shard] = (rows[shard] as number) + (await parquetRows(connection, join(dir, f)));
  }
  return rows;
}

/**
 * For stores that cannot write Parquet themselves (PostgreSQL): the rows, already carrying their
 * shard column from the pushed-down SQL, are staged as newline-delimited JSON on local disk (never
 * all in memory) and DuckDB writes the same partitioned layout as a DuckDB export.
 */
export async function writeShardsFromRows(
  batches: AsyncIterable<OfflineRow[]>,
  columnTypes: () => Record<string, string>,
  uri: string,
  shards: number,
): Promise<number[]> {
  const { createWriteStream } = await import("node:fs");
  const tmp = mkdtempSync(join(tmpdir(), "export-"));
  const staging = join(tmp, "rows.ndjson");
  const out = createWriteStream(staging);
  let any = false;
  try {
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      any = true;
      const text = batch.map((r) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).join("\n");
      if (!out.write(`${text}\n`)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    rmSync(uri, { recursive: true, force: true });
    // A first export under a new root: DuckDB creates the export's directory, not its parents.
    mkdirSync(dirname(uri), { recursive: true });
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      await connection.run("SET TimeZone='UTC'");
      if (any) {
        const types = Object.entries(columnTypes())
          .map(([name, type]) => `${literal(name)}: ${literal(type)}`)
          .join(", ");
        await connection.run(
          `COPY (SELECT * FROM read_json(${literal(staging)}, format = 'newline_delimited', columns = {${types}})) TO ${literal(uri)} (FORMAT parquet, PARTITION_BY ("${SHARD_COLUMN}"), OVERWRITE_OR_IGNORE)`,
        );
      }
      return await countLocalShards(connection, uri, shards);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
