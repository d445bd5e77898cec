import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { CRC32C } from "@google-cloud/storage";

/**
 * In-test HTTP servers that speak the documented wire formats of what serving talks to:
 * a KServe V2 runtime (Triton-like), an OpenAI-compatible server (vLLM-like), a Feast feature
 * server, and an S3 endpoint (path-style GET/PUT). None of the real ones can run on this machine.
 */

export const ROOT = join(__dirname, "..", "..", "..");

/** The test model's fixed inputs and expected outputs, recorded by scripts/build-test-model.py. */
export interface Expected {
  features: string[];
  inputs: number[][];
  versions: Record<"v1" | "v2", { path: string; probability: number[] }>;
}
export const expected: Expected = JSON.parse(readFileSync(join(ROOT, "models", "fraud-scorer", "expected.json"), "utf8"));
export const modelPath = (version: "v1" | "v2") => join(ROOT, expected.versions[version].path);
/** models/dtypes (scripts/build-dtype-model.py): out_<T> = Identity(in_<T>) for every datatype onnxruntime runs. */
export const DTYPES_MODEL = join(ROOT, "models", "dtypes", "model.onnx");
export const DATATYPES = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BYTES",
];

/** Largest absolute difference between predictions and the expected probabilities (prefix). */
export function maxError(actual: number[], want: number[]): number {
  if (actual.length === 0 || actual.length > want.length) return Number.POSITIVE_INFINITY;
  return Math.max(...actual.map((a, i) => Math.abs(a - (want[i] as number))));
}

export interface FakeServer {
  url: string;
  requests: { method: string; path: string; body: unknown }[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, body: unknown, res: ServerResponse) => unknown;

async function serve(handler: Handler): Promise<FakeServer> {
  const requests: FakeServer["requests"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let body: unknown = raw;
      if ((req.headers["content-type"] ?? "").includes("json") && raw.length) body = JSON.parse(raw.toString());
      requests.push({ method: req.method ?? "GET", path: req.url ?? "/", body });
      void Promise.resolve(handler(req, body, res)).catch((error: Error) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: error.message }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A KServe V2 runtime serving model "scorer" (version "3"): input INPUT0 FP32 [-1, 2],
 * output OUTPUT0 = row sums [-1, 1]. `failFirst` answers 503 to that many infer calls (to
 * exercise retries); `delayMs` slows each infer (to exercise timeouts, shedding and drain).
 */
export async function startV2Runtime(
  options: { failFirst?: number; delayMs?: number } = {},
): Promise<FakeServer & { setDelay(ms: number): void }> {
  let failures = options.failFirst ?? 0;
  let delay = options.delayMs ?? 0;
  const metadata = {
    name: "scorer",
    versions: ["3"],
    platform: "onnxruntime_onnx",
    inputs: [{ name: "INPUT0", datatype: "FP32", shape: [-1, 2] }],
    outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: [-1, 1] }],
  };
  const server = await serve(async (req, body, res) => {
    const path = (req.url ?? "").replace(/\/versions\/3/, "");
    if (path === "/v2/health/ready" || path === "/v2/models/scorer/ready") return json(res, 200, { name: "scorer", ready: true });
    if (path === "/v2/models/scorer" && req.method === "GET") return json(res, 200, metadata);
    if (path === "/v2/models/scorer/infer" && req.method === "POST") {
      if (failures > 0) {
        failures--;
        return json(res, 503, { error: "model is reloading" });
      }
      if (delay) await sleep(delay);
      const request = body as { id?: string; inputs: { name: string; shape: number[]; datatype: string; data: number[] }[] };
      const input = request.inputs.find((i) => i.name === "INPUT0");
      if (!input) return json(res, 400, { error: "input 'INPUT0' is missing" });
      const rows = input.shape[0] ?? 0;
      const data = Array.from({ length: rows }, (_, r) => (input.data[2 * r] ?? 0) + (input.data[2 * r + 1] ?? 0));
      return json(res, 200, {
        model_name: "scorer",
        model_version: "3",
        id: request.id,
        outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: [rows, 1], data }],
      });
    }
    json(res, 404, { error: `Request for unknown model: '${path}' is not found` });
  });
  return Object.assign(server, { setDelay: (ms: number) => (delay = ms) });
}

/** An OpenAI-compatible server (vLLM's routes) serving "llama-8b"; `failFirst` answers 502 that many times. */
export async function startOpenAiRuntime(options: { failFirst?: number } = {}): Promise<FakeServer> {
  let failures = options.failFirst ?? 0;
  return serve((req, body, res) => {
    if (req.url === "/v1/models") return json(res, 200, { object: "list", data: [{ id: "llama-8b", object: "model", owned_by: "vllm" }] });
    if (req.url === "/v1/chat/completions" || req.url === "/v1/completions") {
      if (failures > 0) {
        failures--;
        return json(res, 502, { error: "bad gateway" });
      }
      const request = body as { model: string; stream?: boolean };
      if (request.model !== "llama-8b")
        return json(res, 404, {
          object: "error",
          message: `The model \`${request.model}\` does not exist.`,
          type: "NotFoundError",
          code: 404,
        });
      if (request.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hel" } }] })}\n\n`,
        );
        res.write(
          `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "lo" } }] })}\n\n`,
        );
        return res.end("data: [DONE]\n\n");
      }
      return json(res, 200, {
        id: "cmpl-1",
        object: req.url === "/v1/completions" ? "text_completion" : "chat.completion",
        model: "llama-8b",
        choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      });
    }
    json(res, 404, { error: "not found" });
  });
}

/** Feature rows by "card_id/merchant_id" for the fraud_scorer_v1 feature service. */
export type FeatureRows = Record<string, Partial<Record<string, number | null>>>;

/**
 * A Feast feature server's POST /get-online-features: request {feature_service, entities},
 * answer {metadata: {feature_names}, results: [{values, statuses, event_timestamps}]} with the
 * join keys first, as Feast's feature server answers.
 */
export async function startFeast(rows: FeatureRows, options: { delayMs?: number; status?: number } = {}): Promise<FakeServer> {
  const features = expected.features;
  return serve(async (req, body, res) => {
    if (req.url !== "/get-online-features") return json(res, 404, { detail: "Not Found" });
    if (options.delayMs) await sleep(options.delayMs);
    if (options.status) return json(res, options.status, { error: "online store unavailable" });
    const request = body as { feature_service?: string; entities: Record<string, number[]> };
    if (request.feature_service !== "fraud_scorer_v1")
      return json(res, 422, { error: `feature service ${request.feature_service} does not exist` });
    const cards = request.entities.card_id ?? [];
    const merchants = request.entities.merchant_id ?? [];
    const found = cards.map((c, i) => rows[`${c}/${merchants[i]}`]);
    const ts = "2026-11-23T17:00:00Z";
    json(res, 200, {
      metadata: { feature_names: ["card_id", "merchant_id", ...features] },
      results: [
        { values: cards, statuses: cards.map(() => "PRESENT"), event_timestamps: cards.map(() => "1970-01-01T00:00:00Z") },
        { values: merchants, statuses: merchants.map(() => "PRESENT"), event_timestamps: merchants.map(() => "1970-01-01T00:00:00Z") },
        ...features.map((f) => {
          const values = found.map((row) => (row && row[f] !== undefined ? row[f] : null));
          return {
            values,
            statuses: found.map((row) => (!row || row[f] === undefined ? "NOT_FOUND" : row[f] === null ? "NULL_VALUE" : "PRESENT")),
            event_timestamps: values.map(() => ts),
          };
        }),
      ],
    });
  });
}

/** Path-style S3: GET and PUT /<bucket>/<key> against an in-memory map. */
export async function startS3(objects: Map<string, Buffer>): Promise<FakeServer> {
  return serve((req, body, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0] as string).slice(1);
    if (req.method === "PUT") {
      objects.set(path, Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)));
      res.writeHead(200, { etag: '"1"' });
      return res.end();
    }
    const data = objects.get(path);
    if (!data) {
      res.writeHead(404, { "content-type": "application/xml" });
      return res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${path}</Key></Error>`,
      );
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(data.length) });
    res.end(data);
  });
}

/**
 * The GCS JSON API's multipart upload (`POST /upload/storage/v1/b/<bucket>/o?uploadType=multipart`)
 * and media download (`GET /storage/v1/b/<bucket>/o/<object>?alt=media`), answering with the
 * md5Hash and crc32c the client validates, against an in-memory map keyed "<bucket>/<object>".
 */
export async function startGcs(objects: Map<string, Buffer>): Promise<FakeServer> {
  const hashes = (data: Buffer) => {
    const crc = new CRC32C();
    crc.update(data);
    return { md5Hash: createHash("md5").update(data).digest("base64"), crc32c: crc.toString() };
  };
  return serve((req, body, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (req.method === "POST" && upload) {
      const raw = (body as Buffer).toString("latin1");
      const boundary = /boundary=([^;]+)/.exec(req.headers["content-type"] ?? "")?.[1] ?? "";
      const parts = raw.split(`--${boundary}`).filter((p) => p.includes("\r\n\r\n"));
      const metadata = JSON.parse((parts[0] ?? "").split("\r\n\r\n")[1] ?? "{}") as { name?: string; contentType?: string };
      // The object name travels in the metadata part or in the query string.
      metadata.name = metadata.name ?? url.searchParams.get("name") ?? undefined;
      const data = Buffer.from((parts[1] ?? "").split("\r\n\r\n").slice(1).join("\r\n\r\n").replace(/\r\n$/, ""), "latin1");
      objects.set(`${upload[1]}/${metadata.name}`, data);
      return json(res, 200, {
        kind: "storage#object",
        name: metadata.name,
        bucket: upload[1],
        size: String(data.length),
        contentType: metadata.contentType,
        ...hashes(data),
      });
    }
    const download = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    const data = download ? objects.get(`${download[1]}/${decodeURIComponent(download[2] as string)}`) : undefined;
    if (req.method === "GET" && download && data) {
      const { md5Hash, crc32c } = hashes(data);
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "x-goog-hash": `crc32c=${crc32c},md5=${md5Hash}`,
        "content-length": String(data.length),
      });
      return res.end(data);
    }
    json(res, 404, { error: { code: 404, message: `No such object: ${url.pathname}` } });
  });
}
