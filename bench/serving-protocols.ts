/**
 * `npm run bench -- serving-protocols [--seconds S] [--repeats N]`
 *
 * The inference protocol lines of issue 15, each against a baseline measured in the same run, with
 * a closed-loop client (one request at a time) timed by process.hrtime.bigint() (microseconds):
 *  1. gRPC ModelInfer on the fraud scorer vs a bare @grpc/grpc-js unary server that runs the same
 *     raw onnxruntime run() (p99).
 *  2. Binary-tensor REST with a 1 MiB FP32 input (and output) vs a bare node:http server echoing
 *     the same bytes (requests/s, so MiB/s), on a one-input FP32 Identity model
 *     (models/dtypes/fp32.onnx). Last round's line, the same tensor beside the dtypes model's twelve
 *     other one-element inputs sent as JSON, is kept for comparison.
 *  3. The JSON V2 route on the fraud scorer, this tree against the tree at `--base` (default
 *     2ddb678, the commit before issue 15's protocol work), both served from child processes in the
 *     same run: the route must not get slower. The base's code comes from `git archive` into a
 *     temporary directory sharing this tree's node_modules.
 *  4. KServe's own Python ModelServer (venv-triton) on the same ONNX file, same V2 requests, REST
 *     and gRPC: its p99 and requests/s beside ours.
 * Servers run in child processes, each with the services image's GLIBC_TUNABLES (the Dockerfile's
 * runtime stage: see its comment), the bare baselines and KServe's server too. Every repeat runs every case in turn, so load on a shared
 * machine falls on all of them alike; medians of repeats. The last line is the gRPC p99 ratio.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { type Client, credentials, Server, ServerCredentials, type ServiceError } from "@grpc/grpc-js";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { peerPython } from "../test/support/peers";
import { imageEnv } from "../test/support/image-env";
import { freePort } from "../test/support/redis";
import { machine, median } from "./_machine";
import { archiveTree } from "./_tree";

const ROOT = join(__dirname, "..");
const FRAUD = join(ROOT, "models", "fraud-scorer", "v1", "model.onnx");
const DTYPES = join(ROOT, "models", "dtypes", "model.onnx");
const FP32 = join(ROOT, "models", "dtypes", "fp32.onnx");
const ROW = (JSON.parse(readFileSync(join(ROOT, "models", "fraud-scorer", "expected.json"), "utf8")) as { inputs: number[][] })
  .inputs[2] as number[];
const MIB_FLOATS = 262_144;
/** The commit before issue 15's protocol work (e908960): the JSON route's "before". */
const BASE = "2ddb678";
/** How the image runs its processes' heap; given to every server here alike. */
const SERVER_ENV = { ...process.env, GLIBC_TUNABLES: imageEnv(ROOT).GLIBC_TUNABLES };

async function child(role: string, tree: string | undefined): Promise<void> {
  if (role === "serving") {
    const { createServingServer } = await import("../services/serving");
    const { createLogger } = await import("../services/core");
    const app = await createServingServer({
      models: [
        { name: "fraud-scorer", version: "v1", uri: FRAUD },
        { name: "dtypes", version: "v1", uri: DTYPES },
        { name: "fp32", version: "v1", uri: FP32 },
      ],
      logger: createLogger("bench", "silent"),
      maxEventLoopDelayMs: 0,
    });
    const http = await app.listen({ port: 0, host: "127.0.0.1" });
    const grpc = await app.serving.listenGrpc({ port: 0, host: "127.0.0.1" });
    process.send?.({ http, grpc: `127.0.0.1:${grpc}` });
  } else if (role === "base") {
    // The base tree's own server code (its JSON route); the model file is the same.
    const { createServingServer } = await import(join(tree as string, "services/serving"));
    const { createLogger } = await import(join(tree as string, "services/core"));
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: FRAUD }],
      logger: createLogger("bench", "silent"),
      maxEventLoopDelayMs: 0,
    });
    process.send?.({ http: await app.listen({ port: 0, host: "127.0.0.1" }), grpc: "" });
  } else if (role === "bare") {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
        res.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { inferenceService } = await import("../services/serving/grpc-server");
    const session = await InferenceSession.create(FRAUD, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const grpcServer = new Server();
    grpcServer.addService(inferenceService.service, {
      ModelInfer: (call: { request: { raw_input_contents: Buffer[] } }, callback: (e: null, r: unknown) => void) => {
        const raw = call.request.raw_input_contents[0] as Buffer;
        const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
        void session.run({ features: new Tensor("float32", input, [input.length / 5, 5]) }).then((out) => {
          const p = out.probability?.data as Float32Array;
          callback(null, {
            model_name: "fraud-scorer",
            outputs: [{ name: "probability", datatype: "FP32", shape: ["1", "1"] }],
            raw_output_contents: [Buffer.from(p.buffer)],
          });
        });
      },
    });
    const port = await new Promise<number>((res, rej) =>
      grpcServer.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    process.send?.({ http: `http://127.0.0.1:${(server.address() as { port: number }).port}`, grpc: `127.0.0.1:${port}` });
  }
}

const roleAt = process.argv.indexOf("--role");
if (roleAt >= 0) {
  void child(process.argv[roleAt + 1] as string, process.argv[roleAt + 2]);
} else {
  void main();
}

function startChild(role: string, tree?: string): Promise<{ proc: ChildProcess; http: string; grpc: string }> {
  const proc = fork(__filename, ["--role", role, ...(tree ? [tree] : [])], { execArgv: ["--import", "tsx"], env: SERVER_ENV });
  return new Promise((resolve, reject) => {
    proc.once("message", (m: { http: string; grpc: string }) => resolve({ proc, ...m }));
    proc.once("exit", (code) => reject(new Error(`${role} server exited with ${code}`)));
  });
}

interface Stats {
  p50: number;
  p99: number;
  rps: number;
}

/** Closed loop for `seconds`: one request at a time, each timed in microseconds. */
async function loop(seconds: number, once: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < 50; i++) await once();
  const us: number[] = [];
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const started = process.hrtime.bigint();
  let now = started;
  while (now < end) {
    const t = process.hrtime.bigint();
    await once();
    now = process.hrtime.bigint();
    us.push(Number(now - t) / 1000);
  }
  us.sort((a, b) => a - b);
  return {
    p50: us[Math.floor(us.length * 0.5)] as number,
    p99: us[Math.floor(us.length * 0.99)] as number,
    rps: us.length / (Number(now - started) / 1e9),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function post(url: string, body: Buffer, headers: Record<string, string>): () => Promise<void> {
  const target = new URL(url);
  return () =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          agent,
          headers: { ...headers, "content-length": String(body.length) },
        },
        (res) => {
          res.on("data", () => undefined);
          res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode} from ${url}`))));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
}

function grpcInfer(target: string, message: unknown): () => Promise<void> {
  return grpcInferWith(target, message).call;
}
function grpcInferWith(target: string, message: unknown): { call: () => Promise<void>; client: Client } {
  // eslint-free require of the loaded service: the same definition the server uses.
  const { inferenceService } = require("../services/serving/grpc-server") as typeof import("../services/serving/grpc-server");
  const Ctor = inferenceService as unknown as new (t: string, c: ReturnType<typeof credentials.createInsecure>) => Client;
  const client = new Ctor(target, credentials.createInsecure());
  const fn = (client as unknown as { ModelInfer: (m: unknown, cb: (e: ServiceError | null) => void) => void }).ModelInfer.bind(client);
  return { client, call: () => new Promise((resolve, reject) => fn(message, (e) => (e ? reject(e) : resolve()))) };
}

async function main(): Promise<void> {
  const arg = (flag: string, dflt: number) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const seconds = arg("--seconds", 2);
  const repeats = arg("--repeats", 3);
  const baseAt = process.argv.indexOf("--base");
  const base = archiveTree(ROOT, baseAt >= 0 ? (process.argv[baseAt + 1] as string) : BASE);
  const { execSync } = await import("node:child_process");
  console.log(`serving-protocols: ${machine()}; load: ${execSync("uptime").toString().trim()}`);
  console.log(`every server runs with the image's GLIBC_TUNABLES=${SERVER_ENV.GLIBC_TUNABLES}`);
  console.log(
    `closed loop, 1 request at a time, ${seconds} s x ${repeats} repeats (every case in turn), medians; latencies in microseconds; JSON route also at base ${base.rev}`,
  );

  const serving = await startChild("serving");
  const bare = await startChild("bare");
  const before = await startChild("base", base.dir);
  const [kHttp, kGrpc] = [await freePort(), await freePort()];
  const kserve = spawn(
    peerPython("triton"),
    [join(ROOT, "test", "services", "serving", "clients", "kserve_server.py"), "fraud-scorer", FRAUD, String(kHttp), String(kGrpc)],
    { stdio: "ignore", env: SERVER_ENV },
  );
  const kserveUrl = `http://127.0.0.1:${kHttp}`;
  for (let i = 0; i < 400; i++) {
    if (
      await fetch(`${kserveUrl}/v2/models/fraud-scorer/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 250));
  }

  const rowRaw = Buffer.from(new Float32Array(ROW).buffer);
  const grpcMessage = {
    model_name: "fraud-scorer",
    inputs: [{ name: "features", datatype: "FP32", shape: ["1", "5"] }],
    raw_input_contents: [rowRaw],
  };
  const json = Buffer.from(JSON.stringify({ inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: ROW }] }));
  const jsonHeaders = { "content-type": "application/json" };
  // 1 MiB binary: the dtypes model's FP32 identity (every other input one element long).
  const mib = Buffer.from(new Float32Array(MIB_FLOATS).fill(0.5).buffer);
  const small = (t: string) => ({ name: `in_${t}`, datatype: t, shape: [1], data: [t === "BOOL" ? false : t === "BYTES" ? "" : 0] });
  const others = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP64", "BYTES"].map(small);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [...others, { name: "in_FP32", datatype: "FP32", shape: [MIB_FLOATS], parameters: { binary_data_size: mib.length } }],
      outputs: [{ name: "out_FP32", parameters: { binary_data: true } }],
    }),
  );
  const binaryBody = Buffer.concat([header, mib]);
  const binaryHeaders = { "inference-header-content-length": String(header.length) };
  const oneHeader = Buffer.from(
    JSON.stringify({
      inputs: [{ name: "in_FP32", datatype: "FP32", shape: [MIB_FLOATS], parameters: { binary_data_size: mib.length } }],
      outputs: [{ name: "out_FP32", parameters: { binary_data: true } }],
    }),
  );
  const oneBody = Buffer.concat([oneHeader, mib]);
  const oneHeaders = { "inference-header-content-length": String(oneHeader.length) };

  const cases: Array<[string, () => Promise<void>]> = [
    ["bare grpc-js unary + onnxruntime run()", grpcInfer(bare.grpc, grpcMessage)],
    ["serving gRPC ModelInfer", grpcInfer(serving.grpc, grpcMessage)],
    ["KServe ModelServer gRPC ModelInfer", grpcInfer(`127.0.0.1:${kGrpc}`, grpcMessage)],
    ["bare node:http echo of 1 MiB", post(`${bare.http}/`, oneBody, {})],
    ["serving binary REST, 1 MiB FP32 in and out", post(`${serving.http}/v2/models/fp32/infer`, oneBody, oneHeaders)],
    ["  the same beside 12 JSON inputs (dtypes model)", post(`${serving.http}/v2/models/dtypes/infer`, binaryBody, binaryHeaders)],
    ["serving JSON V2 infer", post(`${serving.http}/v2/models/fraud-scorer/infer`, json, jsonHeaders)],
    [`serving JSON V2 infer at base ${base.rev}`, post(`${before.http}/v2/models/fraud-scorer/infer`, json, jsonHeaders)],
    ["KServe ModelServer JSON V2 infer", post(`${kserveUrl}/v2/models/fraud-scorer/infer`, json, jsonHeaders)],
  ];
  // A second of every case first, discarded: the service's code is JIT-compiled and its pools
  // filled before anything is timed (the bare servers have little code to compile; this keeps the
  // ratio about steady state, not warm-up).
  for (const [, once] of cases) await loop(1, once);
  const runs = new Map<string, Stats[]>(cases.map(([name]) => [name, []]));
  for (let r = 0; r < repeats; r++) for (const [name, once] of cases) runs.get(name)?.push(await loop(seconds, once));
  const results = new Map<string, Stats>();
  for (const [name] of cases) {
    const all = runs.get(name) as Stats[];
    const s = { p50: median(all.map((x) => x.p50)), p99: median(all.map((x) => x.p99)), rps: median(all.map((x) => x.rps)) };
    results.set(name, s);
    console.log(
      `${name.padEnd(46)} p50 ${s.p50.toFixed(1).padStart(8)} us  p99 ${s.p99.toFixed(1).padStart(8)} us  ${s.rps.toFixed(0).padStart(6)} req/s`,
    );
  }
  const get = (n: string) => results.get(n) as Stats;
  const jsonNow = get("serving JSON V2 infer");
  const jsonBefore = get(`serving JSON V2 infer at base ${base.rev}`);
  const grpcRatio = get("serving gRPC ModelInfer").p99 / get("bare grpc-js unary + onnxruntime run()").p99;
  const binRatio = get("bare node:http echo of 1 MiB").rps / get("serving binary REST, 1 MiB FP32 in and out").rps;
  const dtypesRatio = get("bare node:http echo of 1 MiB").rps / get("  the same beside 12 JSON inputs (dtypes model)").rps;
  console.log(
    `binary REST 1 MiB: ${get("serving binary REST, 1 MiB FP32 in and out").rps.toFixed(0)} req/s vs bare ${get("bare node:http echo of 1 MiB").rps.toFixed(0)}: bare/ours ${binRatio.toFixed(2)}x (target <= 1.5x); with the dtypes model's 12 JSON inputs beside it ${dtypesRatio.toFixed(2)}x`,
  );
  console.log(
    `JSON V2 infer, this tree vs base ${base.rev}: p50 ${jsonNow.p50.toFixed(1)} vs ${jsonBefore.p50.toFixed(1)} us, p99 ${jsonNow.p99.toFixed(1)} vs ${jsonBefore.p99.toFixed(1)} us, ${jsonNow.rps.toFixed(0)} vs ${jsonBefore.rps.toFixed(0)} req/s: p50 ${(jsonNow.p50 / jsonBefore.p50).toFixed(2)}x (target: not slower)`,
  );
  console.log(
    `KServe peer, JSON: ours p99 ${get("serving JSON V2 infer").p99.toFixed(0)} us, ${get("serving JSON V2 infer").rps.toFixed(0)} req/s; KServe p99 ${get("KServe ModelServer JSON V2 infer").p99.toFixed(0)} us, ${get("KServe ModelServer JSON V2 infer").rps.toFixed(0)} req/s`,
  );
  console.log(
    `KServe peer, gRPC: ours p99 ${get("serving gRPC ModelInfer").p99.toFixed(0)} us; KServe p99 ${get("KServe ModelServer gRPC ModelInfer").p99.toFixed(0)} us`,
  );
  console.log(`load after: ${execSync("uptime").toString().trim()}`);
  console.log(`headline: gRPC ModelInfer p99 ${grpcRatio.toFixed(2)}x the bare grpc-js + onnxruntime baseline (target <= 1.5x)`);
  serving.proc.kill();
  bare.proc.kill();
  before.proc.kill();
  rmSync(base.dir, { recursive: true, force: true });
  kserve.kill("SIGTERM");
  agent.destroy();
  process.exit(0);
}
