/**
 * A small client for the MLflow tracking server's REST API (2.x): runs and metrics, registered
 * models, model versions, aliases and stages, and artifacts through the server's proxied
 * artifact API (`--serve-artifacts`), so pods need no bucket credentials of their own.
 * MLflow has no maintained JavaScript client; this covers the calls the platform makes.
 */

export interface MlflowRun {
  info: {
    run_id: string;
    experiment_id: string;
    status: string;
    artifact_uri: string;
    start_time?: number;
    end_time?: number;
    lifecycle_stage?: string;
  };
  data: {
    metrics?: { key: string; value: number; timestamp: number; step: number }[];
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
  };
}

export interface MlflowModelVersion {
  name: string;
  version: string;
  source: string;
  run_id?: string;
  current_stage?: string;
  status?: string;
  aliases?: string[];
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
}

export interface MlflowRegisteredModel {
  name: string;
  latest_versions?: MlflowModelVersion[];
  aliases?: { alias: string; version: string }[];
  description?: string;
}

/** An error answered by MLflow: its error_code (e.g. RESOURCE_DOES_NOT_EXIST) and message. */
export class MlflowError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = "MlflowError";
  }
}

export interface MlflowClientOptions {
  /** Per-request timeout in ms. Defaults to 10 s. */
  timeoutMs?: number;
  /** Bearer token or basic auth header value, if the server is behind auth. */
  authorization?: string;
}

export class MlflowClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(trackingUri: string, options: MlflowClientOptions = {}) {
    if (!/^https?:\/\//.test(trackingUri)) throw new Error(`MLflow tracking URI must be http(s)://host:port, got "${trackingUri}"`);
    this.base = trackingUri.replace(/\/$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.headers = { "content-type": "application/json", ...(options.authorization ? { authorization: options.authorization } : {}) };
  }

  private async call<T>(method: "GET" | "POST" | "PATCH", path: string, params?: Record<string, string | number | undefined>): Promise<T> {
    let url = `${this.base}${path}`;
    let body: string | undefined;
    const clean = Object.fromEntries(
      Object.entries(params ?? {})
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    if (method === "GET") {
      const query = new URLSearchParams(clean).toString();
      if (query) url += `?${query}`;
    } else body = JSON.stringify(params ?? {});
    let response: Response;
    try {
      response = await fetch(url, { method, headers: this.headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new MlflowError(503, "UNAVAILABLE", `MLflow at ${this.base} is unreachable: ${(error as Error).message}`);
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok)
      throw new MlflowError(
        response.status,
        String(json.error_code ?? "INTERNAL_ERROR"),
        String(json.message ?? `HTTP ${response.status} from ${path}`),
      );
    return json as T;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    return (await this.call<{ run: MlflowRun }>("GET", "/api/2.0/mlflow/runs/get", { run_id: runId })).run;
  }

  /** The latest value of each metric of a run, as a map. */
  async runMetrics(runId: string): Promise<Record<string, number>> {
    const run = await this.getRun(runId);
    return Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
  }

  async metricHistory(runId: string, key: string): Promise<{ key: string; value: number; timestamp: number; step: number }[]> {
    return (
      (
        await this.call<{ metrics?: { key: string; value: number; timestamp: number; step: number }[] }>(
          "GET",
          "/api/2.0/mlflow/metrics/get-history",
          { run_id: runId, metric_key: key },
        )
      ).metrics ?? []
    );
  }

  async getRegisteredModel(name: string): Promise<MlflowRegisteredModel> {
    return (await this.call<{ registered_model: MlflowRegisteredModel }>("GET", "/api/2.0/mlflow/registered-models/get", { name }))
      .registered_model;
  }

  async getModelVersion(name: string, version: string): Promise<MlflowModelVersion> {
    return (await this.call<{ model_version: MlflowModelVersion }>("GET", "/api/2.0/mlflow/model-versions/get", { name, version }))
      .model_version;
  }

  async searchModelVersions(name: string): Promise<MlflowModelVersion[]> {
    const versions: MlflowModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ model_versions?: MlflowModelVersion[]; next_page_token?: string }>(
        "GET",
        "/api/2.0/mlflow/model-versions/search",
        {
          filter: `name='${name.replace(/'/g, "\\'")}'`,
          page_token: pageToken,
        },
      );
      versions.push(...(page.model_versions ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return versions;
  }

  async getVersionByAlias(name: string, alias: string): Promise<MlflowModelVersion> {
    return (await this.call<{ model_version: MlflowModelVersion }>("GET", "/api/2.0/mlflow/registered-models/alias", { name, alias }))
      .model_version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call("POST", "/api/2.0/mlflow/registered-models/alias", { name, alias, version });
  }

  async transitionStage(
    name: string,
    version: string,
    stage: "None" | "Staging" | "Production" | "Archived",
    archiveExisting = false,
  ): Promise<MlflowModelVersion> {
    return (
      await this.call<{ model_version: MlflowModelVersion }>("POST", "/api/2.0/mlflow/model-versions/transition-stage", {
        name,
        version,
        stage,
        archive_existing_versions: String(archiveExisting),
      })
    ).model_version;
  }

  /** Resolves `models:/<name>/<version>` or `models:/<name>@<alias>` to a model version. */
  async resolveModelUri(uri: string): Promise<MlflowModelVersion> {
    const match = /^models:\/([^/@]+)(?:\/([^/]+)|@(.+))$/.exec(uri);
    if (!match) throw new Error(`"${uri}" is not a models:/<name>/<version> or models:/<name>@<alias> URI`);
    const [, name, version, alias] = match as unknown as [string, string, string | undefined, string | undefined];
    return alias ? this.getVersionByAlias(name, alias) : this.getModelVersion(name, version as string);
  }

  /** URL of an artifact through the proxied artifact API, from an `mlflow-artifacts:` source path. */
  artifactUrl(source: string, file?: string): string {
    const path = source.replace(/^mlflow-artifacts:(\/\/[^/]+)?\/?/, "").replace(/\/$/, "");
    const full = file ? `${path}/${file}` : path;
    return `${this.base}/api/2.0/mlflow-artifacts/artifacts/${full.split("/").map(encodeURIComponent).join("/")}`;
  }

  /** Lists files under an `mlflow-artifacts:` source directory. */
  async listArtifacts(source: string): Promise<{ path: string; is_dir: boolean; file_size?: number }[]> {
    const path = source.replace(/^mlflow-artifacts:(\/\/[^/]+)?\/?/, "").replace(/\/$/, "");
    return (
      (
        await this.call<{ files?: { path: string; is_dir: boolean; file_size?: number }[] }>("GET", "/api/2.0/mlflow-artifacts/artifacts", {
          path,
        })
      ).files ?? []
    );
  }

  /** Downloads one artifact through the tracking server. */
  async downloadArtifact(source: string, file?: string): Promise<Buffer> {
    const url = this.artifactUrl(source, file);
    const response = await fetch(url, { headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs * 6) }).catch((error: Error) => {
      throw new MlflowError(503, "UNAVAILABLE", `MLflow at ${this.base} is unreachable: ${error.message}`);
    });
    if (!response.ok)
      throw new MlflowError(
        response.status,
        "RESOURCE_DOES_NOT_EXIST",
        `artifact ${file ?? source} could not be downloaded (HTTP ${response.status})`,
      );
    return Buffer.from(await response.arrayBuffer());
  }
}
