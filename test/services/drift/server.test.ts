import { afterAll, describe, expect, it } from "vitest";
import { buildProfile } from "../../../services/drift/profile";
import { createDriftServer } from "../../../services/drift/server";
import { generator } from "./generate";

const g = generator(5);
const profile = buildProfile({
  rows: 2000,
  columns: { amount: g.normal(2000), channel: Array.from({ length: 2000 }, (_, i) => (i % 3 ? "pos" : "web")) },
});
const app = createDriftServer({ profile, check: { model: "fraud-scorer" } });
afterAll(() => app.close());

describe("drift HTTP API", () => {
  it("POST /check with rows answers the result and GET /metrics exposes it", async () => {
    const rows = g.normal(500, 2).map((amount, i) => ({ amount, channel: i % 2 ? "web" : "pos" }));
    const response = await app.inject({ method: "POST", url: "/check", payload: { rows } });
    expect(response.statusCode).toBe(200);
    const result = response.json();
    expect(result.dataset_drift).toBe(true);
    expect(result.features.map((f: { method: string }) => f.method)).toEqual(["wasserstein", "jensenshannon"]);
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/mlops_drift_dataset_drift\{model="fraud-scorer",service="drift"\} 1/);
    expect(metrics.body).toMatch(/mlops_drift_last_check_timestamp_seconds\{model="fraud-scorer",service="drift"\} \d+/);
  });
  it("POST /check with columns and ?format=html answers the report", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/check?format=html",
      payload: { columns: { amount: g.normal(300), channel: Array(300).fill("pos") } },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    expect(response.body).toContain("<svg");
  });
  it("rejects a body without rows or columns, and columns of unequal length, with 400 and a reason", async () => {
    const empty = await app.inject({ method: "POST", url: "/check", payload: { something: 1 } });
    expect(empty.statusCode).toBe(400);
    const uneven = await app.inject({ method: "POST", url: "/check", payload: { columns: { amount: [1, 2], channel: ["a"] } } });
    expect(uneven.statusCode).toBe(400);
    expect(uneven.json().error).toMatch(/different lengths/);
  });
});
