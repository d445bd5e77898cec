import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { peerPython } from "../../support/peers";
import { DTYPES_MODEL, modelPath, ROOT } from "./fakes";

/**
 * tritonclient and the KServe SDK, unchanged from PyPI (venv-triton, scripts/test-env.d/20-triton.sh),
 * against the serving service over a socket. Each script runs its checks and prints
 * {check: {ok, detail}}; every check must pass, and each script must run all of them.
 */
const run = promisify(execFile);
const CLIENTS = join(__dirname, "clients");
const EXPECTED = join(ROOT, "models", "fraud-scorer", "expected.json");

let app: FastifyInstance;
let http: string;
let grpc: string;

beforeAll(async () => {
  app = await createServingServer({
    models: [
      { name: "fraud-scorer", version: "v1", uri: modelPath("v1") },
      { name: "fraud-scorer", version: "v2", uri: modelPath("v2") },
      { name: "dtypes", version: "v1", uri: DTYPES_MODEL },
    ],
    registry: createRegistry("serving-real-clients"),
    maxEventLoopDelayMs: 0,
  });
  http = await app.listen({ port: 0, host: "127.0.0.1" });
  grpc = `127.0.0.1:${await app.serving.listenGrpc({ port: 0, host: "127.0.0.1" })}`;
});
afterAll(() => app.close());

async function client(script: string, ...args: string[]): Promise<Record<string, { ok: boolean; detail: string }>> {
  const { stdout } = await run(peerPython("triton"), [join(CLIENTS, script), ...args, EXPECTED], { timeout: 120_000, cwd: CLIENTS });
  return JSON.parse(stdout);
}

function expectAllPass(results: Record<string, { ok: boolean; detail: string }>, names: string[]): void {
  expect(Object.keys(results).sort()).toEqual([...names].sort());
  const failed = Object.entries(results).filter(([, r]) => !r.ok);
  expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
}

/** Check names each script must report; gRPC has no JSON tensors in tritonclient (always raw). */
function tritonChecks(protocol: "http" | "grpc"): string[] {
  const forms = protocol === "http" ? ["json", "binary"] : ["binary"];
  return [
    "live and ready",
    "unknown model is not ready",
    "server metadata",
    "model metadata",
    ...["v1", "v2"].flatMap((v) => forms.map((f) => `fraud-scorer ${v} ${f} matches numpy`)),
    ...forms.map((f) => `every datatype ${f} round-trips exactly`),
    "only the requested output comes back",
    "every output when none is named",
    "a bad shape surfaces our message",
    "an unknown model surfaces our message",
  ];
}
const KSERVE_CHECKS = [
  "live and ready",
  ...["json", "binary"].flatMap((f) => [`fraud-scorer ${f} matches numpy`, `every datatype ${f} round-trips exactly`]),
  "only the requested output comes back",
  "a bad shape surfaces our message",
];

describe("tritonclient, unchanged", () => {
  it("over HTTP: health, metadata, JSON and binary tensors of every datatype, exact INT64 and FP16, outputs, errors", async () => {
    const results = await client("triton_client.py", "http", http.replace("http://", ""));
    expectAllPass(results, tritonChecks("http"));
  }, 180_000);

  it("over gRPC: health, metadata, raw tensors of every datatype, exact INT64 and FP16, outputs, errors", async () => {
    const results = await client("triton_client.py", "grpc", grpc);
    expectAllPass(results, tritonChecks("grpc"));
  }, 180_000);
});

describe("the KServe SDK, unchanged", () => {
  it("InferenceRESTClient: health, JSON and binary tensors of every datatype, outputs, our error message", async () => {
    const results = await client("kserve_client.py", "rest", http);
    expectAllPass(results, KSERVE_CHECKS);
  }, 180_000);

  it("InferenceGRPCClient: health, typed and raw tensors of every datatype, outputs, our error message", async () => {
    const results = await client("kserve_client.py", "grpc", grpc);
    expectAllPass(results, KSERVE_CHECKS);
  }, 180_000);
});
