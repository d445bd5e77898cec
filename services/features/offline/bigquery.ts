import { BigQuery, BigQueryTimestamp } from "@google-cloud/bigquery";
import { bigqueryExportSql, type ExportQuery, latestRowsQuery } from "./export";
import { writeRecords } from "./files";
import { type SqlView, trainingSetSql } from "./sql";
import type { ExportManifest, ExportRequest, OfflineRow, OfflineStore, TrainingSetRequest, TrainingSetResult } from "./store";

/** Rows handed to the materializer per batch. */
const BATCH = 5000;

/**
 * BigQuery offline store (`bigquery://<project>/<dataset>`): SQL from offline/sql.ts, run by the
 * official client. Training sets read an entity table already in BigQuery (`--entities
 * project.dataset.table` or a bare table name in the dataset) or load a local file into a
 * temporary table first. Verified by generated-SQL golden tests; no BigQuery is reachable here.
 */
export class BigQueryOfflineStore implements OfflineStore {
  readonly dialect = "bigquery" as const;
  private constructor(
    private readonly client: BigQuery,
    private readonly project: string,
    private readonly dataset: string,
  ) {}

  static fromUrl(url: string): BigQueryOfflineStore {
    const parsed = new URL(url);
    const dataset = parsed.pathname.replace(/^\//, "");
    if (!parsed.hostname || !dataset) throw new Error(`offline store "${url}": write it as bigquery://<project>/<dataset>`);
    return new BigQueryOfflineStore(new BigQuery({ projectId: parsed.hostname }), parsed.hostname, dataset);
  }

  private get context() {
    return { dialect: "bigquery" as const, defaultDataset: `${this.project}.${this.dataset}` };
  }

  latestRows(view: SqlView, features: string[], start: Date, end: Date): AsyncIterable<OfflineRow[]> {
    return this.streamRows(latestRowsQuery(view, features, start, end));
  }

  async *streamRows(query: ExportQuery): AsyncIterable<OfflineRow[]> {
    let batch: OfflineRow[] = [];
    for await (const row of this.client.createQueryStream({ query: query.sql(this.context) })) {
      batch.push(normalise(row as OfflineRow));
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  /** One script: the window is scanned once into a temporary table, each shard exported to GCS from it, counts returned. */
  async exportShards(request: ExportRequest): Promise<ExportManifest> {
    const { query, start, end, shards, uri } = request;
    const [job] = await this.client.createQueryJob({ query: bigqueryExportSql(this.context, query, shards, uri) });
    const [counts] = await job.getQueryResults();
    const rows = Array.from({ length: shards }, () => 0);
    for (const c of counts as { shard: number; rows: number }[]) rows[Number(c.shard)] = Number(c.rows);
    return { uri, shards, rows, start: start.toISOString(), end: end.toISOString() };
  }

  async trainingSet(request: TrainingSetRequest): Promise<TrainingSetResult> {
    let entityTable: string;
    if ("file" in request.entities) {
      const name = `features_entities_${Date.now()}`;
      const [job] = await this.client
        .dataset(this.dataset)
        .table(name)
        .load(request.entities.file, {
          autodetect: true,
          sourceFormat: request.entities.file.endsWith(".parquet") ? "PARQUET" : "CSV",
          writeDisposition: "WRITE_TRUNCATE",
        });
      if (job.status?.errorResult)
        throw new Error(`loading ${request.entities.file} into BigQuery failed: ${job.status.errorResult.message}`);
      entityTable = `${this.project}.${this.dataset}.${name}`;
    } else {
      throw new Error("BigQuery training sets read entity rows from a file or a table; write the rows to a file first");
    }
    const [metadata] = await this.client
      .dataset(this.dataset)
      .table(entityTable.split(".").pop() as string)
      .getMetadata();
    const columns = ((metadata.schema?.fields ?? []) as { name: string }[]).map((f) => f.name);
    const sql = trainingSetSql(this.context, {
      entityRelation: `(SELECT ROW_NUMBER() OVER () AS _entity_row, * FROM \`${entityTable}\`)`,
      entityColumns: columns,
      timestampColumn: request.timestampColumn,
      views: request.views,
      features: request.features,
      fullFeatureNames: request.fullFeatureNames,
    });
    const [rows] = await this.client.query({ query: sql });
    const records = (rows as OfflineRow[]).map(normalise);
    if (request.out) await writeRecords(request.out, records);
    return { rows: records.length, sql, records: request.out ? undefined : records };
  }

  async append(view: SqlView, rows: OfflineRow[]): Promise<number> {
    const table = view.source.table;
    if (!table) throw new Error(`feature view "${view.name}" reads a query; pushing offline needs a table source`);
    await this.client
      .dataset(this.dataset)
      .table(table.split(".").pop() as string)
      .insert(rows);
    return rows.length;
  }

  async close(): Promise<void> {}
}

/** BigQuery returns TIMESTAMP as BigQueryTimestamp; the rest of the service expects Dates. */
function normalise(row: OfflineRow): OfflineRow {
  const out: OfflineRow = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof BigQueryTimestamp ? new Date(v.value) : v;
  return out;
}
