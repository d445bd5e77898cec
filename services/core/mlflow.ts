/**
 * A small client for the MLflow tracking server's REST API (`/api/2.0`, served by MLflow 2 and 3):
 * runs and metrics, registered models, model versions, aliases and stages, and artifacts through
 * the server's proxied artifact API (`--serve-artifacts`), so pods need no bucket credentials of
 * their own. MLflow has no maintained JavaScript client; this covers the calls the platform makes,
 * and is tested against a real `mlflow server` (test/e2e/mlflow-lifecycle.test.ts).
 *
 * MLflow 3 registers a logged model's version with `source: models:/m-<id>` (the LoggedModel),
 * not an artifact path: where the files are comes from `model-versions/get-download-uri`.
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
  /** Retries of a read (GET) that found the server unreachable or answering 502/503/504. Defaults to 2. */
  retries?: number;
  /** Bearer token or basic auth header value, if the server is behind auth. */
  authorization?: string;
}

export class MlflowClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly headers: Record<string, string>;

  constructor(trackingUri: string, options: MlflowClientOptions = {}) {
    if (!/^https?:\/\//.test(trackingUri)) throw new Error(`MLflow tracking URI must be http(s)://host:port, got "${trackingUri}"`);
    this.base = trackingUri.replace(/\/$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 2;
    this.headers = { "content-type": "application/json", ...(options.authorization ? { authorization: options.authorization } : {}) };
  }

  private async call<T>(
    method: "GET" | "POST" | "PATCH",
    path: string,
    params?: Record<string, string | number | boolean | undefined>,
  ): Promise<T> {
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
    // Reads are retried (bounded, with backoff) when the server is down or restarting; writes are not.
    const attempts = method === "GET" ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let failure = new MlflowError(503, "UNAVAILABLE", `MLflow at ${this.base} did not answer`);
      try {
        response = await fetch(url, { method, headers: this.headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        failure = new MlflowError(503, "UNAVAILABLE", `MLflow at ${this.base} is unreachable: ${(error as Error).message}`);
      }
      if (response) {
        const text = await response.text();
        const json = parseJson(text);
        if (response.ok) {
          if (!json)
            throw new MlflowError(502, "BAD_RESPONSE", `MLflow answered ${path} with a body that is not JSON: ${text.slice(0, 200)}`);
          return json as T;
        }
        failure = errorOf(response.status, json, text, path);
        if (![502, 503, 504].includes(response.status)) throw failure;
      }
      if (attempt >= attempts) throw failure;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
    }
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
        // A JSON boolean: MLflow 3 refuses the string "true" (INVALID_PARAMETER_VALUE).
        archive_existing_versions: archiveExisting,
      })
    ).model_version;
  }

  /**
   * Where a version's files are: an `mlflow-artifacts:`, s3:// or gs:// URI. MLflow 3's
   * `models:/m-<id>` sources (and 2's `runs:/` ones) are resolved by the server.
   */
  async getDownloadUri(name: string, version: string): Promise<string> {
    return (await this.call<{ artifact_uri: string }>("GET", "/api/2.0/mlflow/model-versions/get-download-uri", { name, version }))
      .artifact_uri;
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
    if (!response.ok) {
      const text = await response.text();
      const error = errorOf(response.status, parseJson(text), text, url);
      throw new MlflowError(error.status, error.errorCode, `artifact ${file ?? source} could not be downloaded: ${error.message}`);
    }
    return Buffer.from(await response.arrayBuffer());
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** MLflow's error body is {error_code, message}; a proxy in front of it may answer HTML or nothing. */
function errorOf(status: number, json: Record<string, unknown> | undefined, text: string, path: string): MlflowError {
  return new MlflowError(
    status,
    String(json?.error_code ?? (status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST")),
    String(json?.message ?? `HTTP ${status} from ${path}${text && !json ? `: ${text.slice(0, 200)}` : ""}`),
  );
}
