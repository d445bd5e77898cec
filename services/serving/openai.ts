import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../core";
import { begin, type ServingContext } from "./context";
import type { ModelBackend } from "./model-backend";
import { callUpstream, type UpstreamOptions } from "./upstream";
import type { InferenceResponse, MetadataTensor } from "./v2-types";

export interface OpenAiModelOptions extends UpstreamOptions {
  name: string;
  version: string;
  /** The model id the runtime serves (vLLM's --served-model-name). Defaults to `name`. */
  upstreamModel?: string;
}

/**
 * An LLM behind an OpenAI-compatible server (vLLM). It has no tensors, so the V2 infer route
 * refuses it; the /v1 OpenAI routes pass requests through with this service's metrics, limits,
 * retries and prediction log (token counts).
 */
export class OpenAiModel implements ModelBackend {
  readonly kind = "openai" as const;
  readonly platform = "openai";
  readonly inputs: MetadataTensor[] = [];
  readonly outputs: MetadataTensor[] = [];
  readonly name: string;
  readonly version: string;

  private constructor(readonly options: OpenAiModelOptions) {
    this.name = options.name;
    this.version = options.version;
  }

  /** Ready when the runtime lists its models (vLLM answers /v1/models once the weights are loaded). */
  static async load(options: OpenAiModelOptions): Promise<OpenAiModel> {
    const response = await callUpstream(options, "/v1/models", { method: "GET" });
    const text = await response.text();
    if (response.status !== 200)
      throw new Error(`OpenAI-compatible runtime at ${options.url} is not ready: GET /v1/models answered HTTP ${response.status}`);
    // vLLM names its model after its --model argument (often a path) unless --served-model-name is set: ask it.
    const served = (safeJson(text)?.data as { id?: string }[] | undefined)?.[0]?.id;
    return new OpenAiModel({ ...options, upstreamModel: options.upstreamModel ?? served });
  }

  async infer(): Promise<InferenceResponse> {
    throw new HttpError(400, `model "${this.name}" is an OpenAI-compatible LLM; send requests to /v1/chat/completions or /v1/completions`);
  }

  async close(): Promise<void> {}
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** OpenAI-compatible passthrough: /v1/chat/completions, /v1/completions (streaming included) and /v1/models. */
export async function openAiRoutes(app: FastifyInstance, options: { context: ServingContext }): Promise<void> {
  const { context } = options;

  /** The body's "model" picks the backend; with one LLM in the process it may be omitted. */
  const pick = (requested: string | undefined): OpenAiModel => {
    const llms = context.store.loaded().filter((b): b is OpenAiModel => b instanceof OpenAiModel);
    const match =
      llms.find((m) => requested === m.name || requested === (m.options.upstreamModel ?? m.name)) ??
      (llms.length === 1 && !requested ? llms[0] : undefined);
    if (match) return match;
    const names = context.store.names();
    if (requested && names.includes(requested)) return context.store.resolve(requested) as OpenAiModel;
    throw new HttpError(404, `no OpenAI-compatible model "${requested ?? ""}" is served here; served models: ${names.join(", ")}`);
  };

  const forward = async (request: FastifyRequest<{ Body: Record<string, unknown> }>, reply: FastifyReply) => {
    const body = request.body ?? {};
    const model = pick(typeof body.model === "string" ? body.model : undefined);
    begin(context, request, reply, model);
    const upstreamBody = { ...body, model: model.options.upstreamModel ?? model.name };
    const end = context.metrics.inferenceSeconds.startTimer({ model: model.name, version: model.version });
    const response = await callUpstream(model.options, request.url.replace(/\?.*$/, ""), {
      method: "POST",
      body: JSON.stringify(upstreamBody),
    }).finally(end);
    reply.code(response.status);
    reply.header("content-type", response.headers.get("content-type") ?? "application/json");
    if (body.stream === true && response.body) return reply.send(Readable.fromWeb(response.body as WebReadableStream));
    const text = await response.text();
    const usage = response.ok ? (safeJson(text)?.usage as Usage | undefined) : undefined;
    const log = context.predictionLog;
    if (usage && log?.sampled(model.name)) {
      log.add([
        {
          timestamp: new Date().toISOString(),
          model: model.name,
          version: model.version,
          request_id: request.id ?? randomUUID(),
          entities: {},
          features: {},
          outputs: { prompt_tokens: usage.prompt_tokens ?? 0, completion_tokens: usage.completion_tokens ?? 0 },
        },
      ]);
    }
    return reply.send(text);
  };

  const shed = { shed: true };
  app.post<{ Body: Record<string, unknown> }>("/v1/chat/completions", { config: shed, schema: { body: { type: "object" } } }, forward);
  app.post<{ Body: Record<string, unknown> }>("/v1/completions", { config: shed, schema: { body: { type: "object" } } }, forward);
  app.get("/v1/models", async (_request, reply) => {
    const llm = context.store.loaded().find((b): b is OpenAiModel => b instanceof OpenAiModel);
    if (!llm) throw new HttpError(404, "no OpenAI-compatible model is served here");
    const response = await callUpstream(llm.options, "/v1/models", { method: "GET" });
    reply.code(response.status).header("content-type", response.headers.get("content-type") ?? "application/json");
    return reply.send(await response.text());
  });
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
