import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { trackingDatabaseUrl } from "../../components/aws/tracking-db";
import { postgresUrl } from "../../components/gcp/tracking-db";
import { ARTIFACT_BUCKET } from "../../components/k8s/local-stores";
import { DEFAULT_TRACKING_IMAGE, driversFor, SCHEME_DRIVERS, TRACKING_MLFLOW_VERSION } from "../../components/k8s/tracking-image";
import { listStacks, loadStack } from "../../definition";

const root = resolve(__dirname, "../..");
const dockerfile = readFileSync(join(root, "deploy/tracking/Dockerfile"), "utf8");
const pins = new Map(
  readFileSync(join(root, "scripts/constraints/tracking.txt"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const [name = "", version = ""] = l.trim().split("==");
      return [name.toLowerCase(), version] as const;
    }),
);

describe("the tracking image", () => {
  it("installs exactly the pinned set of scripts/constraints/tracking.txt, every package with ==", () => {
    expect(dockerfile).toMatch(/^COPY scripts\/constraints\/tracking\.txt /m);
    expect(dockerfile).toMatch(/pip install --no-deps -r \/tmp\/tracking\.txt && pip check/);
    expect(dockerfile).toMatch(/^FROM python:\d+\.\d+\.\d+-slim/m);
    for (const [name, version] of pins) expect(version, name).toMatch(/^\d[\w.]*$/);
    expect(pins.size).toBeGreaterThan(30);
  });

  it("is tagged with the MLflow it pins and is the stack schema's default", () => {
    expect(pins.get("mlflow")).toBe(TRACKING_MLFLOW_VERSION);
    expect(DEFAULT_TRACKING_IMAGE).toBe(`ghcr.io/mlops-platform/tracking:${TRACKING_MLFLOW_VERSION}`);
    for (const name of listStacks(join(root, "stacks")))
      expect(loadStack(join(root, "stacks"), name).tracking.image, name).toBe(DEFAULT_TRACKING_IMAGE);
  });

  it("pins the driver of every scheme it claims to open", () => {
    for (const driver of new Set(Object.values(SCHEME_DRIVERS))) expect(pins.has(driver), driver).toBe(true);
  });

  it("opens the backend store and artifact URIs every cloud configures", () => {
    const aws = [trackingDatabaseUrl({ username: "mlflow", password: "p/w", host: "db", port: 5432, dbName: "mlflow" }), "s3://b/mlflow"];
    const gcp = [postgresUrl({ user: "mlflow", password: "p", host: "10.0.0.3", database: "mlflow" }), "gs://b/mlflow"];
    const local = ["postgresql://mlflow:p@postgres.platform:5432/mlflow", `s3://${ARTIFACT_BUCKET}/artifacts`];
    expect(driversFor(aws)).toEqual(["boto3", "psycopg"]);
    expect(driversFor(gcp)).toEqual(["google-cloud-storage", "psycopg"]);
    expect(driversFor(local)).toEqual(["boto3", "psycopg"]);
  });

  it("refuses a scheme it has no driver for, naming it and the fix, without the password", () => {
    expect(() => driversFor(["mysql://u:secret@h/db"])).toThrow(/cannot open mysql:\/\/ .*set tracking\.image/);
    expect(() => driversFor(["u:secret@h/db"])).toThrow('"u:***@h/db" is not a URI');
    expect(() => driversFor(["mysql://u:secret@h/db"])).not.toThrow(/secret/);
  });
});
