import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  RedshiftDataClient,
} from "@aws-sdk/client-redshift-data";
import { type ExportQuery, latestRowsQuery, redshiftUnloadSql, SHARD_COLUMN } from "./export";
import { writeRecords } from "./files";
import { type SqlView, trainingSetSql } from "./sql";
import type { ExportManifest, ExportRequest, OfflineRow, OfflineStore, TrainingSetRequest, TrainingSetResult } from "./store";

/** Seconds to wait for one statement before giving up (materialization windows can be large). */
const STATEMENT_TIMEOUT_S = 1800;

/**
 * Redshift offline store through the Redshift Data API (no drivers, no VPC connectivity, IAM
 * auth): `redshift://<workgroup>/<database>` for Serverless, `redshift://<cluster>/<database>?user=<db user>`
 * for a provisioned cluster. Results are paged (GetStatementResult), so materialization streams.
 * Training sets read an entity table already in Redshift: Redshift loads files only from S3 (COPY).
 * Verified by generated-SQL golden tests; no Redshift is reachable here.
 */
export class RedshiftOfflineStore implements OfflineStore {
  readonly dialect = "redshift" as const;
  private constructor(
    private readonly client: RedshiftDataClient,
    private readonly target: { WorkgroupName?: string; ClusterIdentifier?: string; DbUser?: string; Database: string },
    private readonly unloadRole = "default",
  ) {}

  static fromUrl(url: string): RedshiftOfflineStore {
    const parsed = new URL(url);
    const database = parsed.pathname.replace(/^\//, "");
    if (!parsed.hostname || !database) throw new Error(`offline store "${url}": write it as redshift://<workgroup-or-cluster>/<database>`);
    const user = parsed.searchParams.get("user");
    const target = user
      ? { ClusterIdentifier: parsed.hostname, DbUser: user, Database: database }
      : { WorkgroupName: parsed.hostname, Database: database };
    return new RedshiftOfflineStore(
      new RedshiftDataClient({ region: parsed.searchParams.get("region") ?? process.env.AWS_REGION }),
      target,
      parsed.searchParams.get("unloadRole") ?? "default",
    );
  }

  /** Runs a statement and waits for it; returns its id. */
  private async execute(sql: string): Promise<string> {
    const { Id } = await this.client.send(new ExecuteStatementCommand({ ...this.target, Sql: sql }));
    const deadline = Date.now() + STATEMENT_TIMEOUT_S * 1000;
    for (let wait = 100; Date.now() < deadline; wait = Math.min(wait * 2, 2000)) {
      const status = await this.client.send(new DescribeStatementCommand({ Id }));
      if (status.Status === "FINISHED") return Id as string;
      if (status.Status === "FAILED" || status.Status === "ABORTED")
        throw new Error(`Redshift statement ${status.Status}: ${status.Error ?? ""}`);
      await new Promise((r) => setTimeout(r, wait));
    }
    throw new Error(`Redshift statement ${Id} did not finish within ${STATEMENT_TIMEOUT_S} s`);
  }

  private async *pages(id: string): AsyncIterable<OfflineRow[]> {
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(new GetStatementResultCommand({ Id: id, NextToken }));
      const names = (page.ColumnMetadata ?? []).map((c) => c.name ?? "");
      yield (page.Records ?? []).map((record) =>
        Object.fromEntries(record.map((field, i) => [names[i], fieldValue(field, page.ColumnMetadata?.[i]?.typeName)])),
      );
      NextToken = page.NextToken;
    } while (NextToken);
  }

  latestRows(view: SqlView, features: string[], start: Date, end: Date): AsyncIterable<OfflineRow[]> {
    return this.streamRows(latestRowsQuery(view, features, start, end));
  }

  async *streamRows(query: ExportQuery): AsyncIterable<OfflineRow[]> {
    yield* this.pages(await this.execute(query.sql({ dialect: "redshift" })));
  }

  /**
   * One UNLOAD writes every shard to S3 with a verbose manifest; the rows per shard come from the
   * manifest's record counts (the files' paths carry the shard). The role is the cluster's default
   * IAM role unless `?unloadRole=<arn>` is on the store URL.
   */
  async exportShards(request: ExportRequest): Promise<ExportManifest> {
    const { query, start, end, shards, uri } = request;
    await this.execute(redshiftUnloadSql(query, shards, uri, this.unloadRole));
    const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
    const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(`${uri}/manifest`) as RegExpExecArray;
    const object = await new S3Client({ region: process.env.AWS_REGION }).send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
    return {
      uri,
      shards,
      rows: unloadedRows(JSON.parse(await (object.Body as { transformToString(): Promise<string> }).transformToString()), shards),
      start: start.toISOString(),
      end: end.toISOString(),
    };
  }

  async trainingSet(request: TrainingSetRequest): Promise<TrainingSetResult> {
    if (!("file" in request.entities) || /\.(csv|parquet)$/i.test(request.entities.file)) {
      throw new Error(
        "Redshift training sets read the entity rows from a Redshift table (give --entities schema.table); load files from S3 with COPY first",
      );
    }
    const table = request.entities.file;
    const columns: string[] = [];
    for await (const rows of this.pages(await this.execute(`SELECT * FROM ${table} LIMIT 1`))) columns.push(...Object.keys(rows[0] ?? {}));
    const sql = trainingSetSql(
      { dialect: "redshift" },
      {
        entityRelation: `(SELECT ROW_NUMBER() OVER (ORDER BY ${request.timestampColumn}) AS _entity_row, * FROM ${table})`,
        entityColumns: columns,
        timestampColumn: request.timestampColumn,
        views: request.views,
        features: request.features,
        fullFeatureNames: request.fullFeatureNames,
      },
    );
    const records: OfflineRow[] = [];
    for await (const rows of this.pages(await this.execute(sql))) records.push(...rows);
    if (request.out) await writeRecords(request.out, records);
    return { rows: records.length, sql, records: request.out ? undefined : records };
  }

  async append(view: SqlView, _rows: OfflineRow[]): Promise<number> {
    throw new Error(
      `pushing offline to Redshift (feature view "${view.name}") goes through S3 and COPY; push online, or load the rows with your pipeline`,
    );
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function fieldValue(field: Field, typeName?: string): unknown {
  if (field.isNull) return null;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return field.blobValue;
  if (field.stringValue !== undefined && typeName?.startsWith("timestamp")) return new Date(`${field.stringValue.replace(" ", "T")}Z`);
  return field.stringValue;
}

/** Rows per shard from an UNLOAD MANIFEST VERBOSE document (entries' url holds `_shard=<i>/`). */
export function unloadedRows(manifest: { entries?: { url: string; meta?: { record_count?: number } }[] }, shards: number): number[] {
  const rows = Array.from({ length: shards }, () => 0);
  const pattern = new RegExp(`/${SHARD_COLUMN}=(\\d+)/`);
  for (const entry of manifest.entries ?? []) {
    const shard = Number(pattern.exec(entry.url)?.[1] ?? Number.NaN);
    if (!(shard >= 0 && shard < shards))
      throw new Error(`UNLOAD manifest entry ${entry.url} is not under a ${SHARD_COLUMN}=<0..${shards - 1}> prefix`);
    rows[shard] = (rows[shard] as number) + (entry.meta?.record_count ?? 0);
  }
  return rows;
}
