import { type ChildProcess, fork } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageEnv } from "../../support/image-env";

/**
 * The services image sets GLIBC_TUNABLES (Dockerfile, runtime stage) so that the buffers of a
 * large binary tensor, freed by V8 and allocated again by the next request, stay in glibc's heap.
 * With glibc's defaults every 1 MiB request gave its pages back to the kernel and faulted them in
 * again: 120-257 minor page faults per request, about 0.6 ms of kernel time. This runs the serving
 * service as the image does (its GLIBC_TUNABLES) and counts the process's own page faults.
 */
const FLOATS = 262_144;
let server: ChildProcess;
let url: string;

beforeAll(async () => {
  const tunables = imageEnv().GLIBC_TUNABLES;
  expect(tunables, "the Dockerfile's runtime stage sets GLIBC_TUNABLES").toBeDefined();
  server = fork(join(__dirname, "fixtures", "fp32-server.ts"), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, GLIBC_TUNABLES: tunables },
  });
  url = await new Promise<string>((resolve, reject) => {
    server.once("message", (m) => resolve(m as string));
    server.once("exit", (code) => reject(new Error(`serving fixture exited with ${code}`)));
  });
}, 60_000);

afterAll(() => {
  server?.disconnect();
});

const usage = () =>
  new Promise<NodeJS.ResourceUsage>((resolve) => {
    server.once("message", (m) => resolve(m as NodeJS.ResourceUsage));
    server.send("usage");
  });

describe("the serving process under the image's GLIBC_TUNABLES", () => {
  it("answers 1 MiB binary tensors without faulting their pages in again on every request", async () => {
    const tensor = Buffer.from(new Float32Array(FLOATS).fill(0.25).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: "in_FP32", datatype: "FP32", shape: [FLOATS], parameters: { binary_data_size: tensor.length } }],
        outputs: [{ name: "out_FP32", parameters: { binary_data: true } }],
      }),
    );
    const body = Buffer.concat([header, tensor]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const once = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${url}/v2/models/fp32/infer`,
          { method: "POST", agent, headers: { "inference-header-content-length": header.length, "content-length": body.length } },
          (res) => {
            let bytes = 0;
            res.on("data", (chunk: Buffer) => {
              bytes += chunk.length;
            });
            res.on("end", () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`))));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    for (let i = 0; i < 50; i++) await once(); // warm-up: the JIT, the body pool, glibc's heap
    const before = await usage();
    const n = 150;
    for (let i = 0; i < n; i++) expect(await once()).toBeGreaterThan(tensor.length);
    const after = await usage();
    agent.destroy();
    const faultsPerRequest = (after.minorPageFault - before.minorPageFault) / n;
    // A 1 MiB buffer is 256 pages; with glibc's defaults this was 120-257 per request.
    expect(faultsPerRequest).toBeLessThan(32);
  }, 120_000);
});
