/**
 * `npm run serving -- serve --model NAME=PATH_OR_URI [--model ...] [--features URL] [--port N]`
 * Every flag has an environment twin (MODEL, FEATURES, PORT, ...) for containers.
 */
import { existsSync } from "node:fs";
import { loadCatalog } from "../../definition/load";
import type { Catalog } from "../../definition/registry";
import { closeOnSignals, createLogger, type FlagSpec, helpText, parseCommand, UsageError } from "../core";
import { BackendKind } from "./model-backend";
import type { ModelConfig } from "./model-store";
import { createServingServer } from "./server";

const FLAGS: FlagSpec[] = [
  {
    name: "model",
    type: "string",
    multiple: true,
    description: "model to serve, NAME=PATH_OR_URI or NAME@VERSION=PATH_OR_URI (path, s3://, gs://, models:/name/version); repeatable",
  },
  {
    name: "version",
    type: "string",
    description: "version label of the models (else the catalog version whose modelUri matches, else v1)",
    env: "MODEL_VERSION",
  },
  { name: "runtime", type: "string", default: "onnx", description: `how the model runs: ${BackendKind.join(", ")}` },
  { name: "upstream", type: "string", description: "external runtime base URL for --runtime kserve-v2|triton|openai" },
  { name: "upstream-grpc", type: "string", description: "the runtime's V2 gRPC host:port; gRPC requests are forwarded there" },
  { name: "upstream-model", type: "string", description: "the model's name in the runtime, when it differs" },
  { name: "upstream-timeout", type: "string", default: "10000", description: "ms per runtime attempt" },
  { name: "upstream-retries", type: "string", default: "2", description: "extra attempts on connect errors and 502/503" },
  { name: "features", type: "string", description: "features service URL for entity-keyed predict" },
  { name: "features-timeout", type: "string", default: "200", description: "ms per feature lookup" },
  { name: "catalog", type: "string", default: "catalog", description: "catalog directory (feature services, log sample rates)" },
  { name: "project", type: "string", default: "mlops", description: "feature store project name", env: "FEATURE_STORE_PROJECT" },
  {
    name: "log-dir",
    type: "string",
    description: "prediction log: a directory, s3://bucket/prefix or gs://bucket/prefix (off when unset)",
  },
  { name: "log-sample-rate", type: "string", description: "share of requests logged, 0..1 (default: the catalog's logging.sampleRate)" },
  { name: "mlflow-tracking-uri", type: "string", description: "MLflow server for models:/ URIs", env: "MLFLOW_TRACKING_URI" },
  { name: "port", type: "string", default: "8080", description: "port to listen on" },
  { name: "grpc-port", type: "string", default: "8081", description: "port of the V2 gRPC API (0 = any free port)", env: "GRPC_PORT" },
  { name: "host", type: "string", default: "0.0.0.0", description: "address to listen on" },
  { name: "max-in-flight", type: "string", default: "256", description: "concurrent predictions before shedding with 503" },
  { name: "max-event-loop-delay", type: "string", default: "200", description: "event-loop delay (ms) before shedding with 503" },
  {
    name: "request-timeout",
    type: "string",
    default: "5000",
    description: "ms one inference may take before the answer is 504 (set below the mesh's per-try timeout)",
    env: "REQUEST_TIMEOUT_MS",
  },
  { name: "json", type: "boolean", description: "print the startup summary as JSON" },
];

const USAGE =
  "npm run serving -- serve --model NAME=PATH_OR_URI [--model ...] [--features URL] [--port N] [--upstream URL --runtime kserve-v2|triton|openai]";
const DESCRIPTION =
  "Serves models over the KServe V2 protocol (/v2/...), entity-keyed predictions (/v1/models/NAME/predict)\n" +
  "with features from the features service, and an OpenAI-compatible passthrough for vLLM.";

function number(values: Record<string, unknown>, flag: string): number {
  const value = Number(values[flag]);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${flag} must be a non-negative number, got "${String(values[flag])}"`);
  return value;
}

/** NAME=URI or NAME@VERSION=URI; the version defaults to --version, then the catalog entry whose modelUri is URI. */
function parseModelFlag(
  text: string,
  fallbackVersion: string | undefined,
  catalog: Catalog | undefined,
): { name: string; version: string; uri: string } {
  const match = /^([a-z0-9][-a-z0-9_]*)(?:@([-A-Za-z0-9_.]+))?=(.+)$/.exec(text);
  if (!match)
    throw new UsageError(
      `--model "${text}" must look like NAME=PATH_OR_URI or NAME@VERSION=PATH_OR_URI, e.g. fraud-scorer=models/fraud-scorer/v1/model.onnx`,
    );
  const [, name, version, uri] = match as unknown as [string, string, string | undefined, string];
  const fromCatalog = catalog?.models[name]?.versions.find((v) => v.modelUri === uri)?.name;
  return { name, version: version ?? fallbackVersion ?? fromCatalog ?? "v1", uri };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(helpText(`${USAGE}`, `${DESCRIPTION}\n\nCommands:\n  serve    start the server`, FLAGS));
    return command ? 0 : 2;
  }
  if (command !== "serve") throw new UsageError(`unknown command "${command}"; the only command is "serve" (see --help)`);
  const { values } = parseCommand(rest, FLAGS);
  if (values.help) {
    console.log(helpText(USAGE, DESCRIPTION, FLAGS));
    return 0;
  }
  const logger = createLogger("serving");
  const runtime = String(values.runtime) as BackendKind;
  if (!BackendKind.includes(runtime)) throw new UsageError(`--runtime "${runtime}" is not one of ${BackendKind.join(", ")}`);
  const catalogDir = String(values.catalog);
  const catalog = existsSync(catalogDir) ? loadCatalog(catalogDir, String(values.project)) : undefined;
  const modelFlags = (values.model as string[] | undefined) ?? [];
  if (modelFlags.length === 0) throw new UsageError("give at least one --model NAME=PATH_OR_URI (or MODEL=...)");
  const upstreamUrl = values.upstream as string | undefined;
  if (runtime !== "onnx" && !upstreamUrl) throw new UsageError(`--runtime ${runtime} needs --upstream URL (the runtime's base URL)`);

  const models: ModelConfig[] = modelFlags.map((flag) => {
    const { name, version, uri } = parseModelFlag(flag, values.version as string | undefined, catalog);
    return {
      name,
      version,
      runtime,
      uri,
      upstream: upstreamUrl
        ? {
            url: upstreamUrl,
            timeoutMs: number(values, "upstream-timeout"),
            retries: number(values, "upstream-retries"),
            grpcTarget: values["upstream-grpc"] as string | undefined,
          }
        : undefined,
      upstreamModel: values["upstream-model"] as string | undefined,
    };
  });
  const sampleRate = values["log-sample-rate"] === undefined ? undefined : number(values, "log-sample-rate");
  if (sampleRate !== undefined && sampleRate > 1) throw new UsageError(`--log-sample-rate must be between 0 and 1, got ${sampleRate}`);

  const app = await createServingServer({
    models,
    catalog,
    featuresUrl: values.features as string | undefined,
    featuresTimeoutMs: number(values, "features-timeout"),
    predictionLog: values["log-dir"] ? { target: String(values["log-dir"]), sampleRate } : undefined,
    maxInFlight: number(values, "max-in-flight"),
    maxEventLoopDelayMs: number(values, "max-event-loop-delay"),
    inferenceTimeoutMs: number(values, "request-timeout"),
    modelSource: { mlflowTrackingUri: values["mlflow-tracking-uri"] as string | undefined },
    logger,
    // Listen at once: readiness stays false (503) until every model is loaded and warmed.
    waitUntilReady: false,
  });
  closeOnSignals(app, logger);
  const address = await app.listen({ port: number(values, "port"), host: String(values.host) });
  const grpcPort = await app.serving.listenGrpc({ port: number(values, "grpc-port"), host: String(values.host) });
  const summary = {
    address,
    grpc: `${String(values.host)}:${grpcPort}`,
    models: models.map((m) => ({
      name: m.name,
      version: m.version,
      runtime: m.runtime,
      source: m.runtime === "onnx" ? m.uri : upstreamUrl,
    })),
    features: values.features ?? null,
    predictionLog: app.serving.predictionLog?.description ?? null,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.error(`serving: listening on ${address} (REST) and ${summary.grpc} (gRPC)`);
    for (const m of summary.models) console.error(`serving: loading ${m.name} ${m.version} (${m.runtime}) from ${m.source}`);
  }
  try {
    await app.serving.loaded;
    if (!values.json) console.error(`serving: ready; try curl ${address}/v2/models/${models[0]?.name}`);
  } catch (error) {
    console.error(`serving: ${(error as Error).message}`);
    await app.close();
    return 1;
  }
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: Error) => {
    console.error(error instanceof UsageError ? `serving: ${error.message}\nRun with --help for usage.` : `serving: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
