import { HttpError, type Logger } from "../core";
import type { BackendKind, ModelBackend } from "./model-backend";
import { fetchModel, type ModelSourceOptions } from "./model-source";
import { OnnxModel } from "./onnx-model";
import { OpenAiModel } from "./openai";
import type { TensorLimits } from "./tensor";
import { UpstreamModel } from "./upstream-model";
import type { UpstreamOptions } from "./upstream";

/** One model version this process serves. */
export interface ModelConfig {
  name: string;
  version: string;
  /** `onnx` (default) runs `uri` in process; the others forward to `upstream`. */
  runtime?: BackendKind;
  /** For onnx: a path, s3://, gs:// or models:/<name>/<version>. */
  uri?: string;
  /** For external runtimes: the runtime's base URL, its timeout and retries. */
  upstream?: UpstreamOptions;
  /** The model's name in the runtime, when it differs. */
  upstreamModel?: string;
  upstreamVersion?: string;
}

type LoadState = { state: "loading" } | { state: "ready"; backend: ModelBackend } | { state: "failed"; reason: string };

/**
 * The model versions of this process and whether each is loaded and warmed. Readiness is true
 * only when every configured version is ready, so Kubernetes sends no traffic to a pod whose
 * model is still downloading.
 */
export class ModelStore {
  private readonly states = new Map<string, LoadState>();
  private readonly defaults = new Map<string, string>();

  constructor(
    private readonly configs: ModelConfig[],
    private readonly deps: { limits: TensorLimits; source?: ModelSourceOptions; logger?: Logger },
  ) {
    for (const config of configs) {
      const key = this.key(config.name, config.version);
      if (this.states.has(key)) throw new Error(`model ${config.name} version ${config.version} is configured twice`);
      this.states.set(key, { state: "loading" });
      // The first version given for a name answers requests that name no version.
      if (!this.defaults.has(config.name)) this.defaults.set(config.name, config.version);
    }
  }

  /** Loads and warms every version in parallel; rejects with every failure when one fails. */
  async load(): Promise<void> {
    const failures: string[] = [];
    await Promise.all(
      this.configs.map(async (config) => {
        const key = this.key(config.name, config.version);
        try {
          const started = Date.now();
          const backend = await this.loadOne(config);
          this.states.set(key, { state: "ready", backend });
          this.deps.logger?.info(
            { model: config.name, version: config.version, runtime: backend.kind, ms: Date.now() - started },
            "model loaded and warmed",
          );
        } catch (error) {
          const reason = (error as Error).message;
          this.states.set(key, { state: "failed", reason });
          failures.push(`${config.name} ${config.version}: ${reason}`);
        }
      }),
    );
    if (failures.length) throw new Error(`could not load ${failures.length} model version(s): ${failures.join("; ")}`);
  }

  private async loadOne(config: ModelConfig): Promise<ModelBackend> {
    const runtime = config.runtime ?? "onnx";
    if (runtime === "onnx") {
      if (!config.uri) throw new Error("an onnx model needs a uri (path, s3://, gs:// or models:/)");
      const local = await fetchModel(config.uri, this.deps.source);
      try {
        return await OnnxModel.load({ name: config.name, version: config.version, path: local.path, limits: this.deps.limits });
      } finally {
        // The session holds the model in memory; the downloaded copy is no longer needed.
        await local.cleanup();
      }
    }
    if (!config.upstream) throw new Error(`a ${runtime} model needs an upstream runtime URL (--upstream)`);
    const upstream = {
      ...config.upstream,
      name: config.name,
      version: config.version,
      upstreamModel: config.upstreamModel,
      upstreamVersion: config.upstreamVersion,
    };
    if (runtime === "openai") return OpenAiModel.load(upstream);
    return UpstreamModel.load({ ...upstream, kind: runtime, limits: this.deps.limits });
  }

  private key(name: string, version: string): string {
    return `${name}\u0000${version}`;
  }

  /** Model names, in configuration order. */
  names(): string[] {
    return [...this.defaults.keys()];
  }

  versionsOf(name: string): string[] {
    return this.configs.filter((c) => c.name === name).map((c) => c.version);
  }

  defaultVersion(name: string): string | undefined {
    return this.defaults.get(name);
  }

  /** Every loaded backend. */
  loaded(): ModelBackend[] {
    return [...this.states.values()].flatMap((s) => (s.state === "ready" ? [s.backend] : []));
  }

  /** Ready when every configured version is loaded and warmed; otherwise the first reason it is not. */
  readiness(name?: string, version?: string): { ok: boolean; reason?: string } {
    const keys = name ? [this.key(name, version ?? this.defaults.get(name) ?? "")] : [...this.states.keys()];
    for (const key of keys) {
      const state = this.states.get(key);
      const [model, v] = key.split("\u0000") as [string, string];
      if (!state) return { ok: false, reason: `model ${model} version ${v} is not served here` };
      if (state.state === "loading") return { ok: false, reason: `model ${model} version ${v} is still loading` };
      if (state.state === "failed") return { ok: false, reason: `model ${model} version ${v} failed to load: ${state.reason}` };
    }
    return { ok: true };
  }

  /** The backend for a request: 404 when the model or version is not served here, 503 while it is loading. */
  resolve(name: string, version?: string): ModelBackend {
    const chosen = version ?? this.defaults.get(name);
    if (!this.defaults.has(name))
      throw new HttpError(404, `model "${name}" is not served here; served models: ${this.names().join(", ") || "none"}`);
    const state = this.states.get(this.key(name, chosen as string));
    if (!state)
      throw new HttpError(404, `model "${name}" has no version "${chosen}" here; served versions: ${this.versionsOf(name).join(", ")}`);
    if (state.state === "loading") throw new HttpError(503, `model "${name}" version "${chosen}" is still loading; retry shortly`);
    if (state.state === "failed") throw new HttpError(503, `model "${name}" version "${chosen}" failed to load: ${state.reason}`);
    return state.backend;
  }

  async close(): Promise<void> {
    await Promise.all(this.loaded().map((b) => b.close()));
  }
}
