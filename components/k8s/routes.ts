import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { type ModelSpec, trafficOf } from "../../definition";

/**
 * Istio routing for one model, computed as plain data from the catalog so it can be tested
 * without Pulumi: header override routes first, then the weighted route with the shadow mirror,
 * retries and timeouts derived from the model's SLO.
 */

export type VirtualServiceSpec = NonNullable<IVirtualService["spec"]>;
export type DestinationRuleSpec = NonNullable<IDestinationRule["spec"]>;
export type HttpRoute = NonNullable<VirtualServiceSpec["http"]>[number];

/** Label that tells a model's pods (and DestinationRule subsets) apart by version; Istio telemetry reads it too. */
export const VERSION_LABEL = "version";
/** Label shared by every pod of a model, whatever the version: the model's Service selects on it. */
export const MODEL_LABEL = "mlops.platform/model";
/** Conditions on which Envoy retries: server errors and connection failures, never client errors. */
export const RETRY_ON = "5xx,reset,connect-failure,refused-stream";
/**
 * The same for gRPC, whose failures arrive as grpc-status on HTTP 200: UNAVAILABLE (draining,
 * not ready) and RESOURCE_EXHAUSTED (shed) mean the pod did not run the request.
 */
export const GRPC_RETRY_ON = `${RETRY_ON},unavailable,resource-exhausted`;
/** Retries after the first try; one retry keeps the worst case near 2x the per-try budget. */
export const RETRY_ATTEMPTS = 1;

/** In-cluster DNS name of a model's Service. */
export function modelHost(model: Pick<ModelSpec, "name">, namespace: string): string {
  return `${model.name}.${namespace}.svc.cluster.local`;
}

/** Istio durations are Go durations; milliseconds keep every SLO exact. */
export function istioDuration(ms: number): string {
  return `${Math.ceil(ms)}ms`;
}

/**
 * Retry and timeout budget from the SLO: each try may take twice the p99 target (a slow try
 * past that is more likely stuck than slow), and the whole request gets every try plus 10%
 * headroom, so a retry is never cut short by the overall timeout.
 */
export function retryBudget(slo: ModelSpec["slo"]): { attempts: number; perTryTimeoutMs: number; timeoutMs: number } {
  const perTryTimeoutMs = Math.max(10, Math.ceil(slo.p99LatencyMs * 2));
  return { attempts: RETRY_ATTEMPTS, perTryTimeoutMs, timeoutMs: Math.ceil(perTryTimeoutMs * (RETRY_ATTEMPTS + 1) * 1.1) };
}

/**
 * A model that scales to zero is reached over HTTP through the KEDA HTTP add-on's interceptor,
 * which holds each request until a replica is ready and forwards it to the version's own Service
 * (chosen by the Host header set here). gRPC routes stay direct: the interceptor proxies HTTP/1.1
 * and h2c per its forceHTTP2 switch, not both, so gRPC clients of a scale-to-zero model get 503
 * while it is at zero (docs/serving.md). `coldStartMs` is the longest cold start among the versions.
 */
export interface ScaleFromZero {
  interceptorHost: string;
  interceptorPort: number;
  /** The Host the interceptor routes a version by (its HTTPScaledObject's spec.hosts). */
  versionHost(version: string): string;
  coldStartMs: number;
}

/** Set on requests routed through the interceptor: which version the weighted route chose (subsets are not used there). */
export const ROUTED_VERSION_HEADER = "x-mlops-routed-version";

/**
 * The VirtualService spec of a model: for gRPC (matched by port) and then for HTTP, one header
 * route per version and then the weighted route. The gRPC routes carry the same weights, header
 * and mirror as the HTTP ones, so a canary sees the same share of either protocol.
 */
export function virtualServiceSpec(model: ModelSpec, namespace: string, fromZero?: ScaleFromZero): VirtualServiceSpec {
  const host = modelHost(model, namespace);
  return {
    hosts: [host, model.name],
    http: [
      ...protocolRoutes(model, host, { port: GRPC_PORT, prefix: "grpc-", retryOn: GRPC_RETRY_ON }),
      ...protocolRoutes(model, host, undefined, fromZero),
    ],
  };
}

/** One protocol's routes; the gRPC ones match its port (first, so the port-less HTTP routes never take them). */
function protocolRoutes(
  model: ModelSpec,
  host: string,
  grpc?: { port: number; prefix: string; retryOn: string },
  fromZero?: ScaleFromZero,
): HttpRoute[] {
  const port = grpc?.port ?? SERVING_PORT;
  const prefix = grpc?.prefix ?? "";
  const budget = retryBudget(model.slo);
  // Waking from zero: the first try waits the cold start, and retrying it would only queue twice.
  const resilience = fromZero
    ? { retries: { attempts: 0 }, timeout: istioDuration(fromZero.coldStartMs + budget.timeoutMs) }
    : {
        retries: { attempts: budget.attempts, perTryTimeout: istioDuration(budget.perTryTimeoutMs), retryOn: grpc?.retryOn ?? RETRY_ON },
        timeout: istioDuration(budget.timeoutMs),
      };
  const destination = (version: string) =>
    fromZero
      ? {
          destination: { host: fromZero.interceptorHost, port: { number: fromZero.interceptorPort } },
          headers: { request: { set: { host: fromZero.versionHost(version), [ROUTED_VERSION_HEADER]: version } } },
        }
      : { destination: { host, subset: version, port: { number: port } } };
  const onPort = grpc ? { port: grpc.port } : {};
  const header = model.headerOverride.header;
  // Header routes come first: Istio takes the first matching route, so a request that names a
  // version reaches it whatever the weights (0-weight and shadow versions included).
  const headerRoutes: HttpRoute[] = model.versions.map((v) => ({
    name: `${prefix}${header}-${v.name}`,
    match: [{ headers: { [header]: { exact: v.name } }, ...onPort }],
    route: [{ ...destination(v.name), weight: 100 }],
    ...resilience,
  }));
  const traffic = trafficOf(model);
  const weighted: HttpRoute = {
    name: `${prefix}weighted`,
    ...(grpc ? { match: [onPort] } : {}),
    route: traffic.weighted.map((w) => ({ ...destination(w.version), weight: w.weight })),
    ...resilience,
  };
  if (traffic.shadow) {
    weighted.mirror = { host, subset: traffic.shadow.version, port: { number: port } };
    weighted.mirrorPercentage = { value: traffic.shadow.mirrorPercentage };
  }
  return [...headerRoutes, weighted];
}

/**
 * The DestinationRule of a model: a subset per version, mesh mTLS, and outlier detection that
 * ejects a pod after consecutive 5xx so one bad replica cannot burn the error budget.
 */
export function destinationRuleSpec(model: ModelSpec, namespace: string): DestinationRuleSpec {
  return {
    host: modelHost(model, namespace),
    trafficPolicy: {
      tls: { mode: "ISTIO_MUTUAL" },
      connectionPool: { http: { http2MaxRequests: 1000, maxRequestsPerConnection: 0, idleTimeout: "300s" } },
      outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
    },
    subsets: model.versions.map((v) => ({ name: v.name, labels: { [VERSION_LABEL]: v.name } })),
  };
}

/** Port of the serving service in every model pod (KServe V2 over HTTP). */
export const SERVING_PORT = 8080;
/** Port of its V2 gRPC API (KServe's model server default, 8081). */
export const GRPC_PORT = 8081;

/** Weighted share per version as the VirtualService sends it (0 for versions without a route); `grpc` reads the gRPC split. */
export function routedWeights(spec: VirtualServiceSpec, protocol: "http" | "grpc" = "http"): Record<string, number> {
  const weighted = spec.http?.find((r) => r.name === (protocol === "grpc" ? "grpc-weighted" : "weighted"));
  const out: Record<string, number> = {};
  for (const r of weighted?.route ?? []) {
    // Through the scale-from-zero interceptor there is no subset: the version is in a header.
    const viaInterceptor = r.headers?.request?.set?.[ROUTED_VERSION_HEADER];
    out[r.destination.subset ?? viaInterceptor ?? ""] = r.weight ?? 0;
  }
  return out;
}

type IstioKind = "VirtualService" | "DestinationRule";

type IstioModule = typeof import("@kubernetes-models/istio/networking.istio.io/v1");

/**
 * A real `import()`. @kubernetes-models/istio is ESM-only with an "import"-only exports map, and
 * `pulumi up` runs this CommonJS project through ts-node, which compiles `import()` into
 * `require()`, which that exports map refuses. Code built by `new Function` is not compiled.
 */
const nativeImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;
let istioModule: Promise<IstioModule> | undefined;

async function loadIstio(): Promise<IstioModule> {
  try {
    return (await nativeImport("@kubernetes-models/istio/networking.istio.io/v1")) as IstioModule;
  } catch (error) {
    // Module runners that evaluate code in a vm without an import hook (vitest) refuse the native
    // import; they also rewrite the ordinary import() below, so it works there.
    if ((error as NodeJS.ErrnoException).code !== "ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING") throw error;
    return import("@kubernetes-models/istio/networking.istio.io/v1");
  }
}

/**
 * Validates an Istio object against its OpenAPI schema (@kubernetes-models/istio) and returns
 * it as plain JSON; the result is a promise the Pulumi resource takes as an input.
 */
export async function validatedIstio(
  kind: IstioKind,
  metadata: { name: string; namespace: string; labels: Record<string, string> },
  spec: VirtualServiceSpec | DestinationRuleSpec,
): Promise<Record<string, unknown>> {
  istioModule ??= loadIstio();
  const istio = await istioModule;
  // The models' base class (validate, toJSON) ships its types behind package exports, which this
  // project's node10 module resolution does not read; the shape is restated here.
  const object = (kind === "VirtualService"
    ? new istio.VirtualService({ metadata, spec: spec as VirtualServiceSpec })
    : new istio.DestinationRule({ metadata, spec: spec as DestinationRuleSpec })) as unknown as { validate(): void; toJSON(): unknown };
  try {
    object.validate();
  } catch (error) {
    throw new Error(`${kind} ${metadata.namespace}/${metadata.name} does not match the Istio schema: ${(error as Error).message}`);
  }
  return object.toJSON() as unknown as Record<string, unknown>;
}
