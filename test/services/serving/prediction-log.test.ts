import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../definition/load";
import { createRegistry } from "../../../services/core";
import {
  createServingServer,
  FileLogSink,
  GcsObjectWriter,
  LogLayout,
  ObjectLogSink,
  type ObjectWriter,
  PredictionLog,
  type PredictionLogSink,
  type PredictionRecord,
  S3ObjectWriter,
} from "../../../services/serving";
import { expected, modelPath, ROOT, startFeast, startGcs, startS3 } from "./fakes";

/** Every *.jsonl file under a directory, the way the drift service lists them. */
function jsonlFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl")).map((f) => join(root, f));
}
const readRecords = (root: string): PredictionRecord[] =>
  jsonlFiles(root).flatMap((f) =>
    readFileSync(f, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l)),
  );

const record = (i: number, overrides: Partial<PredictionRecord> = {}): PredictionRecord => ({
  timestamp: "2026-11-23T18:04:05.123Z",
  model: "fraud-scorer",
  version: "v1",
  request_id: `r${i}`,
  entities: { card_id: i },
  features: { txn_count_1h: i },
  outputs: { probability: i / 10 },
  ...overrides,
});

describe("prediction log written by the server", () => {
  it("entity-keyed predictions are logged with entities, short feature names and outputs, in the documented layout", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "serving-log-"));
    const rowFor = (values: number[]) => Object.fromEntries(expected.features.map((f, i) => [f, values[i] as number]));
    const feast = await startFeast({ "1/7": rowFor(expected.inputs[0] as number[]), "2/8": rowFor(expected.inputs[1] as number[]) });
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v2", uri: modelPath("v2") }],
      catalog: loadCatalog(join(ROOT, "catalog"), "mlops"),
      featuresUrl: feast.url,
      predictionLog: { target: logDir, sampleRate: 1 },
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 0,
    });
    try {
      const res = await app.inject({
        method: "POST",
        url: "/v1/models/fraud-scorer/predict",
        payload: { id: "req-1", entities: { card_id: [1, 2], merchant_id: [7, 8] } },
      });
      expect(res.statusCode).toBe(200);
      await app.serving.predictionLog?.flush();
      const files = jsonlFiles(logDir);
      expect(files).toHaveLength(1);
      const path = relative(logDir, files[0] as string);
      expect(path).toMatch(new RegExp(`^fraud-scorer/\\d{4}-\\d{2}-\\d{2}/\\d{2}/v2-${process.pid}-\\d+\\.jsonl$`));
      const records = readRecords(logDir);
      expect(records).toHaveLength(2);
      expect(records[1]).toEqual({
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        model: "fraud-scorer",
        version: "v2",
        request_id: "req-1",
        entities: { card_id: 2, merchant_id: 8 },
        features: rowFor(expected.inputs[1] as number[]),
        outputs: { probability: expect.closeTo(expected.versions.v2.probability[1] as number, 6) },
      });
      // The directory's date and hour are the record's UTC timestamp.
      const ts = records[0]?.timestamp as string;
      expect(path.startsWith(`fraud-scorer/${ts.slice(0, 10)}/${ts.slice(11, 13)}/`)).toBe(true);
    } finally {
      await app.close();
      await feast.close();
    }
  });

  it("raw-tensor requests are logged under the catalog's feature names, with empty entities", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "serving-log-"));
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
      catalog: loadCatalog(join(ROOT, "catalog"), "mlops"),
      predictionLog: { target: logDir, sampleRate: 1 },
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 0,
    });
    try {
      await app.inject({
        method: "POST",
        url: "/v2/models/fraud-scorer/infer",
        payload: { inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: expected.inputs[3] as number[] }] },
      });
      await app.close();
      const [logged] = readRecords(logDir);
      expect(logged?.entities).toEqual({});
      expect(Object.keys(logged?.features ?? {})).toEqual(expected.features);
      expect(logged?.features.txn_amount_max_24h).toBe(600);
    } finally {
      await app.close();
    }
  });

  it("samples at the catalog's rate when not overridden", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "serving-log-"));
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
      catalog: loadCatalog(join(ROOT, "catalog"), "mlops"),
      predictionLog: { target: logDir },
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 0,
    });
    const payload = { inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: expected.inputs[0] as number[] }] };
    for (let i = 0; i < 400; i++) await app.inject({ method: "POST", url: "/v2/models/fraud-scorer/infer", payload });
    await app.close();
    // catalog/models/fraud/fraud-scorer.yaml: logging.sampleRate 0.2 -> 80 expected; 5 standard deviations either side.
    const logged = readRecords(logDir).length;
    expect(logged).toBeGreaterThan(80 - 5 * 8);
    expect(logged).toBeLessThan(80 + 5 * 8);
  });
});

describe("prediction log mechanics", () => {
  it("never blocks: a slow sink fills the buffer and further records are dropped and counted", async () => {
    const drops: number[] = [];
    let release: () => void = () => {};
    const slow: PredictionLogSink = { description: "slow", write: () => new Promise<void>((r) => (release = r)) };
    const log = new PredictionLog({
      sink: slow,
      sampleRate: () => 1,
      maxBuffered: 10,
      batchSize: 5,
      flushIntervalMs: 10_000,
      onDrop: (_m, _v, n) => drops.push(n),
    });
    log.add(Array.from({ length: 5 }, (_, i) => record(i)));
    await new Promise((r) => setImmediate(r)); // the full batch goes to the (stuck) sink
    const started = performance.now();
    for (let i = 0; i < 20; i++) log.add([record(100 + i)]);
    expect(performance.now() - started).toBeLessThan(50);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(10);
    release();
  });

  it("counts dropped records on the metric by model and version", async () => {
    const registry = createRegistry("serving-test");
    const failing: PredictionLogSink = { description: "failing", write: async () => Promise.reject(new Error("bucket gone")) };
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
      predictionLog: { sink: failing, sampleRate: 1 },
      registry,
      maxEventLoopDelayMs: 0,
    });
    await app.inject({
      method: "POST",
      url: "/v2/models/fraud-scorer/infer",
      payload: { inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: [1, 2, 3, 4, 5] }] },
    });
    await app.serving.predictionLog?.flush();
    const text = (await app.inject("/metrics")).body;
    await app.close();
    expect(text).toMatch(/mlops_serving_prediction_log_dropped_total\{[^}]*model="fraud-scorer",version="v1"[^}]*\} 1/);
  });

  it("files are renamed into place complete: a reader never sees a partial line or a temporary file as .jsonl", async () => {
    const root = mkdtempSync(join(tmpdir(), "serving-log-"));
    const sink = new FileLogSink(root);
    const writes = Array.from({ length: 20 }, (_, w) => sink.write(Array.from({ length: 200 }, (_, i) => record(w * 1000 + i))));
    const seen: string[] = [];
    while (seen.length < 50) {
      for (const file of jsonlFiles(root)) {
        const text = readFileSync(file, "utf8");
        expect(text.endsWith("\n")).toBe(true);
        expect(text.trim().split("\n").length).toBe(200);
        seen.push(file);
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(jsonlFiles(root)).toHaveLength(20);
    const dir = join(root, "fraud-scorer", "2026-11-23", "18");
    expect(readdirSync(dir).every((f) => f.endsWith(".jsonl") && statSync(join(dir, f)).size > 0)).toBe(true);
  });

  it("groups records into one file per model, version and UTC hour, with unique names", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            model: fc.constantFrom("a", "b"),
            version: fc.constantFrom("v1", "v2"),
            at: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_000 + 5 * 3_600_000 }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        (rows) => {
          const records = rows.map((r, i) => record(i, { model: r.model, version: r.version, timestamp: new Date(r.at).toISOString() }));
          const batches = new LogLayout(4242, 1000).batches(records);
          expect(new Set(batches.map((b) => b.key)).size).toBe(batches.length);
          expect(batches.reduce((n, b) => n + b.count, 0)).toBe(records.length);
          for (const batch of batches) {
            const lines = batch.body
              .trim()
              .split("\n")
              .map((l) => JSON.parse(l) as PredictionRecord);
            const first = lines[0] as PredictionRecord;
            expect(batch.key).toMatch(
              new RegExp(
                `^${first.model}/${first.timestamp.slice(0, 10)}/${first.timestamp.slice(11, 13)}/${first.version}-4242-\\d+\\.jsonl$`,
              ),
            );
            for (const line of lines)
              expect([line.model, line.version, line.timestamp.slice(0, 13)]).toEqual([
                first.model,
                first.version,
                first.timestamp.slice(0, 13),
              ]);
          }
        },
      ),
    );
  });

  it("object sinks use the same key layout under their prefix (S3 through the SDK against an S3-compatible endpoint)", async () => {
    const objects = new Map<string, Buffer>();
    const s3 = await startS3(objects);
    try {
      const client = new S3Client({
        endpoint: s3.url,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      const sink = new ObjectLogSink(new S3ObjectWriter(client, "mlops-logs"), "predictions/", new LogLayout(7, 1));
      await sink.write([record(1), record(2, { version: "v2" }), record(3, { timestamp: "2026-11-23T19:00:00.000Z" })]);
      expect([...objects.keys()].sort()).toEqual([
        "mlops-logs/predictions/fraud-scorer/2026-11-23/18/v1-7-1.jsonl",
        "mlops-logs/predictions/fraud-scorer/2026-11-23/18/v2-7-2.jsonl",
        "mlops-logs/predictions/fraud-scorer/2026-11-23/19/v1-7-3.jsonl",
      ]);
      const put = s3.requests.find((r) => r.method === "PUT");
      expect(put?.path).toContain("/mlops-logs/predictions/");
      expect(JSON.parse(objects.get("mlops-logs/predictions/fraud-scorer/2026-11-23/18/v2-7-2.jsonl")?.toString() ?? "{}")).toMatchObject({
        request_id: "r2",
        version: "v2",
      });
    } finally {
      await s3.close();
    }
  });

  it("GCS sinks write the same keys through the GCS SDK (against a GCS-compatible endpoint)", async () => {
    const objects = new Map<string, Buffer>();
    const gcs = await startGcs(objects);
    try {
      const storage = new Storage({ apiEndpoint: gcs.url, projectId: "test" });
      const sink = new ObjectLogSink(new GcsObjectWriter(storage, "mlops-logs"), "predictions", new LogLayout(7, 1));
      await sink.write([record(1), record(2)]);
      expect([...objects.keys()]).toEqual(["mlops-logs/predictions/fraud-scorer/2026-11-23/18/v1-7-1.jsonl"]);
      const lines = objects.get("mlops-logs/predictions/fraud-scorer/2026-11-23/18/v1-7-1.jsonl")?.toString().trim().split("\n") ?? [];
      expect(lines.map((l) => JSON.parse(l).request_id)).toEqual(["r1", "r2"]);
    } finally {
      await gcs.close();
    }
  });

  it("an object sink writes one object per batch and normalises the slashes of its prefix", async () => {
    const puts: { key: string; body: string }[] = [];
    const memory: ObjectWriter = { description: "gs://bucket", put: async (key, body) => void puts.push({ key, body }) };
    const sink = new ObjectLogSink(memory, "/logs/", new LogLayout(9, 5));
    await sink.write([record(1), record(2)]);
    expect(puts).toEqual([
      { key: "logs/fraud-scorer/2026-11-23/18/v1-9-5.jsonl", body: `${JSON.stringify(record(1))}\n${JSON.stringify(record(2))}\n` },
    ]);
  });
});
