import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { checkDrift } from "../../../services/drift/check";
import { createDriftMetrics, pushMetrics, recordResult } from "../../../services/drift/metrics";
import { buildProfile } from "../../../services/drift/profile";

const profile = buildProfile({ rows: 6, columns: { x: [1, 2, 3, 4, 5, 6], c: ["a", "b", "a", "b", "a", "b"] } });
const result = checkDrift(
  profile,
  { rows: 4, columns: { x: [10, 11, 12, 13], c: ["a", "b", "a", "b"] } },
  { model: "churn", now: new Date("2026-11-23T12:00:00Z") },
);

let server: Server | undefined;
afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe("drift metrics", () => {
  it("carry the per-feature score with its method, the drift share, the verdict and the check time", async () => {
    const registry = new Registry();
    recordResult(createDriftMetrics(registry), result);
    const text = await registry.metrics();
    expect(text).toContain('mlops_drift_score{model="churn",feature="x",method="ks"}');
    expect(text).toContain('mlops_drift_dataset_drift_share{model="churn"} 0.5');
    expect(text).toContain('mlops_drift_dataset_drift{model="churn"} 1');
    expect(text).toContain(`mlops_drift_last_check_timestamp_seconds{model="churn"} ${Date.parse("2026-11-23T12:00:00Z") / 1000}`);
  });
  it("are pushed to a Pushgateway under job drift, grouped by model", async () => {
    const seen: { method?: string; url?: string; body: string }[] = [];
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const registry = new Registry();
    recordResult(createDriftMetrics(registry), result);
    await pushMetrics(registry, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, "churn");
    expect(seen).toHaveLength(1);
    expect([seen[0]!.method, seen[0]!.url]).toEqual(["POST", "/metrics/job/drift/model/churn"]);
    expect(seen[0]!.body).toContain("mlops_drift_dataset_drift");
  });
});
