import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trackingDatabaseUrl } from "../../components/aws/tracking-db";
import { postgresUrl } from "../../components/gcp/tracking-db";
import { ARTIFACT_BUCKET } from "../../components/k8s/local-stores";
import { SCHEME_DRIVERS } from "../../components/k8s/tracking-image";
import { type MlflowServer, startMlflow } from "../support/mlflow";
import { peerBin, peerPython } from "../support/peers";

/**
 * There is no container runtime here to run the tracking image itself, so the image and the tests'
 * MLflow server are made of one pinned list: deploy/tracking/Dockerfile and venv-mlflow both install
 * scripts/constraints/tracking.txt. These tests keep it that way, and show that the server the
 * tests start opens the platform's URIs with the image's drivers, from that list.
 */
const root = resolve(__dirname, "../..");
const constraints = join(root, "scripts/constraints");

function pins(file: string): Map<string, string> {
  const normal = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");
  return new Map(
    readFileSync(join(constraints, file), "utf8")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => {
        const [name = "", version = ""] = l.trim().split("==");
        return [normal(name), version] as const;
      }),
  );
}
const tracking = pins("tracking.txt");
const sitePackages = () => join(dirname(dirname(peerPython("mlflow"))), "lib");

describe("the tracking image and the tests' MLflow server are one pinned list", () => {
  it("deploy/tracking/Dockerfile and venv-mlflow both install scripts/constraints/tracking.txt, and nothing else pins the server", () => {
    const dockerfile = readFileSync(join(root, "deploy/tracking/Dockerfile"), "utf8");
    const install = readFileSync(join(root, "scripts/test-env.d/50-lifecycle.sh"), "utf8");
    expect(dockerfile).toMatch(/^COPY scripts\/constraints\/tracking\.txt \/tmp\/tracking\.txt$/m);
    expect(install).toMatch(/^make_venv mlflow tracking\.txt$/m);
    // The training script's extras add packages and move none of the image's.
    const training = pins("mlflow-training.txt");
    expect([...training.keys()].filter((name) => tracking.has(name))).toEqual([]);
    expect(install).toMatch(/--no-deps -r "\$training"/);
    // One list: no other constraints file pins mlflow.
    const pinningMlflow = readdirSync(constraints).filter((f) => f.endsWith(".txt") && pins(f).has("mlflow"));
    expect(pinningMlflow).toEqual(["tracking.txt"]);
  });

  it("venv-mlflow holds every package of tracking.txt at its pinned version", () => {
    const installed = JSON.parse(
      execFileSync(
        peerPython("mlflow"),
        ["-c", "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"],
        { encoding: "utf8" },
      ),
    ) as Record<string, string>;
    const versions = new Map(Object.entries(installed).map(([name, version]) => [name.toLowerCase().replace(/[-_.]+/g, "-"), version]));
    const wrong = [...tracking]
      .filter(([name, version]) => versions.get(name) !== version)
      .map(([name, v]) => `${name}==${v}: ${versions.get(name)}`);
    expect(wrong).toEqual([]);
    expect(tracking.size).toBeGreaterThan(90);
  });

  it("MLflow in venv-mlflow opens the backend and artifact URIs every cloud configures with the image's pinned drivers", () => {
    const backend = [
      trackingDatabaseUrl({ username: "mlflow", password: "p/w", host: "db", port: 5432, dbName: "mlflow" }),
      postgresUrl({ user: "mlflow", password: "p", host: "10.0.0.3", database: "mlflow" }),
      "postgresql://mlflow:p@postgres.platform:5432/mlflow",
    ];
    const artifacts = ["s3://b/mlflow", "gs://b/mlflow", `s3://${ARTIFACT_BUCKET}/artifacts`];
    const out = execFileSync(peerPython("mlflow"), [join(__dirname, "tracking", "drivers.py"), JSON.stringify({ backend, artifacts })], {
      encoding: "utf8",
      timeout: 120_000,
    });
    const loaded = JSON.parse(out) as { uri: string; module: string; file: string; distributions: Record<string, string> }[];
    expect(loaded.map((l) => [l.uri, l.module])).toEqual([
      ["postgresql", "psycopg"],
      ["postgresql", "psycopg"],
      ["postgresql", "psycopg"],
      ["s3", "boto3"],
      ["gs", "google.cloud.storage"],
      ["s3", "boto3"],
    ]);
    for (const l of loaded) {
      expect(l.file.startsWith(sitePackages()), `${l.module} from ${l.file}`).toBe(true);
      // The driver the plan-time check names for the scheme is the one MLflow loaded, at the image's pin.
      const driver = SCHEME_DRIVERS[l.uri] as string;
      expect(Object.keys(l.distributions), l.uri).toContain(driver);
      for (const [name, version] of Object.entries(l.distributions)) expect(tracking.get(name), name).toBe(version);
    }
    // psycopg's compiled implementation, from psycopg-binary (pinned), not the pure-Python fallback.
    expect(Object.keys(loaded[0]?.distributions ?? {})).toEqual(["psycopg", "psycopg-binary"]);
  });
});

/** The process and its descendants (mlflow server runs its app in uvicorn worker processes). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process exited while we listed /proc.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i] as number) ?? []));
  return tree;
}

describe("the MLflow server the tests start, on PostgreSQL as the platform deploys it", () => {
  let server: MlflowServer;
  beforeAll(async () => {
    server = await startMlflow({ backend: "postgres" });
  }, 300_000);
  afterAll(() => server?.stop());

  it("is venv-mlflow's, answers on a postgresql:// store and has psycopg-binary's libpq from venv-mlflow mapped", async () => {
    expect(server.backendStoreUri).toMatch(/^postgresql:\/\//);
    const shebang = readFileSync(peerBin("mlflow", "mlflow"), "utf8").split("\n")[0] ?? "";
    expect(dirname(shebang.replace(/^#!/, ""))).toBe(dirname(peerPython("mlflow")));
    const response = await fetch(`${server.url}/api/2.0/mlflow/experiments/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "tracking-pins" }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(response.status).toBe(200);
    const maps = processTree(server.pid).flatMap((pid) => {
      try {
        return readFileSync(`/proc/${pid}/maps`, "utf8").split("\n");
      } catch {
        return [];
      }
    });
    const libpq = maps.filter((l) => /psycopg_binary(\.libs)?\/.*libpq/.test(l)).map((l) => l.slice(l.indexOf("/")));
    expect(libpq.length).toBeGreaterThan(0);
    for (const path of libpq) expect(path.startsWith(sitePackages()), path).toBe(true);
  }, 120_000);
});
