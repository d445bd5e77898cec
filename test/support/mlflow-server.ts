import { createServer, type Server } from "node:http";

/**
 * An in-test stand-in for an MLflow 2.x tracking server. No MLflow can be installed here (it is
 * on PyPI only, which this machine cannot reach), so it replays responses in the shapes MLflow's
 * REST API documentation gives (runs/get, model-versions/get, registered-models/alias,
 * transition-stage, mlflow-artifacts), including MLflow's error body {error_code, message}.
 */
export interface FakeMlflow {
  url: string;
  requests: { method: string; path: string; body: unknown }[];
  close(): Promise<void>;
}

export interface MlflowFixtures {
  runs: Record<string, { metrics: Record<string, number>; params?: Record<string, string>; artifactUri?: string }>;
  versions: { name: string; version: string; runId: string; source: string; stage?: string; aliases?: string[] }[];
  artifacts: Record<string, Buffer>;
}

export async function startFakeMlflow(fixtures: MlflowFixtures): Promise<FakeMlflow> {
  const requests: FakeMlflow["requests"] = [];
  const notFound = (res: import("node:http").ServerResponse, message: string) => {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error_code: "RESOURCE_DOES_NOT_EXIST", message }));
  };
  const json = (res: import("node:http").ServerResponse, body: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const versionJson = (v: MlflowFixtures["versions"][number]) => ({
    name: v.name,
    version: v.version,
    creation_timestamp: 1732380000000,
    last_updated_timestamp: 1732380000000,
    current_stage: v.stage ?? "None",
    description: "",
    source: v.source,
    run_id: v.runId,
    status: "READY",
    aliases: v.aliases ?? [],
  });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      requests.push({ method: req.method ?? "GET", path: url.pathname, body });
      const q = (k: string) => url.searchParams.get(k) ?? (body as Record<string, string> | undefined)?.[k] ?? "";
      if (url.pathname === "/api/2.0/mlflow/runs/get") {
        const run = fixtures.runs[q("run_id")];
        if (!run) return notFound(res, `Run '${q("run_id")}' not found`);
        return json(res, {
          run: {
            info: {
              run_id: q("run_id"),
              run_uuid: q("run_id"),
              experiment_id: "1",
              status: "FINISHED",
              artifact_uri: run.artifactUri ?? `mlflow-artifacts:/1/${q("run_id")}/artifacts`,
              lifecycle_stage: "active",
            },
            data: {
              metrics: Object.entries(run.metrics).map(([key, value]) => ({ key, value, timestamp: 1732380000000, step: 0 })),
              params: Object.entries(run.params ?? {}).map(([key, value]) => ({ key, value })),
              tags: [],
            },
          },
        });
      }
      if (url.pathname === "/api/2.0/mlflow/model-versions/get") {
        const v = fixtures.versions.find((x) => x.name === q("name") && x.version === q("version"));
        return v
          ? json(res, { model_version: versionJson(v) })
          : notFound(res, `Model Version (name=${q("name")}, version=${q("version")}) not found`);
      }
      if (url.pathname === "/api/2.0/mlflow/registered-models/alias" && req.method === "GET") {
        const v = fixtures.versions.find((x) => x.name === q("name") && x.aliases?.includes(q("alias")));
        return v ? json(res, { model_version: versionJson(v) }) : notFound(res, `Registered model alias ${q("alias")} not found.`);
      }
      if (url.pathname === "/api/2.0/mlflow/registered-models/alias" && req.method === "POST") {
        for (const v of fixtures.versions) if (v.name === q("name")) v.aliases = (v.aliases ?? []).filter((a) => a !== q("alias"));
        const v = fixtures.versions.find((x) => x.name === q("name") && x.version === q("version"));
        if (!v) return notFound(res, "version not found");
        v.aliases = [...(v.aliases ?? []), q("alias")];
        return json(res, {});
      }
      if (url.pathname === "/api/2.0/mlflow/model-versions/transition-stage") {
        const v = fixtures.versions.find((x) => x.name === q("name") && x.version === q("version"));
        if (!v) return notFound(res, "version not found");
        v.stage = q("stage");
        return json(res, { model_version: versionJson(v) });
      }
      if (url.pathname === "/api/2.0/mlflow/model-versions/search") {
        const name = /name='([^']+)'/.exec(q("filter"))?.[1];
        return json(res, { model_versions: fixtures.versions.filter((v) => v.name === name).map(versionJson) });
      }
      if (url.pathname === "/api/2.0/mlflow-artifacts/artifacts" && url.searchParams.has("path")) {
        const prefix = url.searchParams.get("path") ?? "";
        const files = Object.keys(fixtures.artifacts)
          .filter((k) => k.startsWith(`${prefix}/`))
          .map((k) => ({ path: k.slice(prefix.length + 1), is_dir: false, file_size: fixtures.artifacts[k]?.length }));
        return json(res, { files });
      }
      if (url.pathname.startsWith("/api/2.0/mlflow-artifacts/artifacts/")) {
        const path = decodeURIComponent(url.pathname.slice("/api/2.0/mlflow-artifacts/artifacts/".length));
        const data = fixtures.artifacts[path];
        if (!data) return notFound(res, `artifact ${path} not found`);
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return res.end(data);
      }
      notFound(res, `no route ${url.pathname}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
