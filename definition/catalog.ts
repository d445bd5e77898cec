import { z } from "zod";
import { parseDuration } from "./duration";
import { Materialization } from "./materialization";
import { Accelerator } from "./stack";

/**
 * Self-service catalog schemas. Feature files (`catalog/features/<team>.yaml`) follow Feast's
 * registry concepts (entity, feature view, feature service, push source) with camelCase YAML keys;
 * model files (`catalog/models/<team>/<model>.yaml`) follow KServe/Istio vocabulary.
 */

/** Feast value types of entity join keys. */
export const EntityValueType = ["INT64", "INT32", "STRING", "BYTES"] as const;
export type EntityValueType = (typeof EntityValueType)[number];

/** Feast feature dtypes (feast.types), scalar and list. */
export const ScalarDtype = ["Int32", "Int64", "Float32", "Float64", "String", "Bytes", "Bool", "UnixTimestamp"] as const;
export const Dtype = [...ScalarDtype, ...ScalarDtype.map((t) => `Array(${t})` as const)] as const;
export type Dtype = (typeof Dtype)[number];

/** Feast-style names: letters, digits and underscores. */
const featureName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be letters, digits and '_', starting with a letter or '_'");
/** Kubernetes object names: models and versions become Deployments, Services and subsets. */
export const dns1123 = z
  .string()
  .regex(
    /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/,
    "must be a DNS-1123 label: lower-case letters, digits and '-', starting with a letter, at most 40 characters",
  );

/** A duration string ("24h", "7d", "90s") turned into seconds. */
export const Duration = z.string().transform((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    ctx.addIssue({ code: "custom", message: `"${text}" is not a duration; write it like "90s", "15m", "24h" or "7d"` });
    return z.NEVER;
  }
  return seconds;
});

const cron = z.string().regex(/^(\S+\s+){4}\S+$/, 'must be a 5-field cron expression like "0 * * * *"');

export const Entity = z
  .object({
    name: featureName,
    /** Join keys of the entity (Feast supports several; most entities have one). */
    joinKeys: z.array(featureName).min(1).describe("Join keys of the entity (Feast supports several; most entities have one)."),
    valueType: z.enum(EntityValueType).default("INT64"),
    description: z.string().default(""),
  })
  .strict();
export type Entity = z.output<typeof Entity>;

export const Field = z.object({ name: featureName, dtype: z.enum(Dtype), description: z.string().default("") }).strict();
export type Field = z.output<typeof Field>;

export const Source = z
  .object({
    /** Offline table (warehouse table, or file path/glob for DuckDB). Exactly one of table and query. */
    table: z.string().optional().describe("Offline table (warehouse table, or file path/glob for DuckDB). Exactly one of table and query."),
    query: z.string().optional(),
    /** Column holding the event time of each row. */
    timestampField: z.string().default("event_timestamp").describe("Column holding the event time of each row."),
    /** Column used to break ties between rows with the same event time (later wins). */
    createdTimestampField: z.string().optional().describe("Column used to break ties between rows with the same event time (later wins)."),
  })
  .strict()
  .refine((s) => (s.table === undefined) !== (s.query === undefined), { message: "give exactly one of table and query" });

/** A duration kept as written ("7d"): aggregation names are built from the text, so "7d" stays "7d" (not "1w"). */
const DurationText = z.string().refine((text) => (parseDuration(text) ?? 0) > 0, {
  message: 'must be a positive duration like "5m", "1h", "24h" or "7d"',
});

/** Aggregation functions over raw events (sample stddev/variance, as pandas' default ddof=1). */
export const AggregationFunction = [
  "count",
  "sum",
  "mean",
  "min",
  "max",
  "stddev",
  "variance",
  "count_distinct",
  "last",
  "last_n",
] as const;
export type AggregationFunction = (typeof AggregationFunction)[number];

export const Aggregation = z
  .object({
    /** The raw event column aggregated; omitted only for count (which then counts events). */
    column: featureName
      .optional()
      .describe("The raw event column aggregated; omitted only for count, which then counts events (with it, non-null values)."),
    function: z
      .enum(AggregationFunction)
      .describe("count, sum, mean, min, max, stddev, variance (sample), count_distinct, last, last_n (a list, newest first)."),
    window: DurationText.describe('How far back the value looks, e.g. "1h", "7d": events with t - window < event time <= t (see tile).'),
    /** Only events where this expression is true are aggregated. */
    where: z.string().min(1).optional().describe('Only events where this expression is true count, e.g. "amount > 100".'),
    /** Feature name; defaults to <column>_<function>_<window> (count_<window> without a column). */
    name: featureName.optional().describe("Feature name; defaults to <column>_<function>_<window> (count_<window> without a column)."),
    /** For last_n: how many values, newest first. */
    n: z.number().int().min(1).max(1000).optional().describe("For last_n: how many values are kept, newest first (1..1000)."),
    /** Tile size of this aggregation; defaults to the view's tile, or 5m (< 12h windows), 1h (< 12d), 1d. */
    tile: DurationText.optional().describe(
      "Tile size; the window must be a multiple of it. Defaults to the view's tile, else 5m for windows under 12h, 1h under 12d, 1d above.",
    ),
    description: z.string().default(""),
  })
  .strict();
export type Aggregation = z.output<typeof Aggregation>;

/** A feature computed from other features of the same view, by an expression. */
export const DerivedFeature = z
  .object({
    name: featureName,
    dtype: z.enum(Dtype),
    expression: z
      .string()
      .min(1)
      .describe('An expression over the view\'s aggregates, e.g. "amount_mean_7d / amount_mean_30d" (docs/features.md).'),
    description: z.string().default(""),
  })
  .strict();
export type DerivedFeature = z.output<typeof DerivedFeature>;

export const FeatureView = z
  .object({
    name: featureName,
    entities: z.array(featureName).min(1).describe("Entities of the view; their join keys form the online key."),
    /** How long a value stays valid; older values are served as OUTSIDE_MAX_AGE / null. "0s" means forever. */
    ttl: Duration.default(86400).describe(
      'How long a value stays valid; older values are served as OUTSIDE_MAX_AGE / null. "0s" means forever.',
    ),
    /**
     * Features of a plain view. For a view with aggregations: the raw event columns with their dtypes
     * (columns the aggregations read and are not listed are Float64).
     */
    fields: z
      .array(Field)
      .default([])
      .describe(
        "Features of a plain view. With aggregations: the raw event columns and dtypes (unlisted columns the aggregations read are Float64).",
      ),
    source: Source,
    aggregations: z
      .array(Aggregation)
      .optional()
      .describe("Windowed aggregations over the raw events of the source; each becomes a feature (docs/features.md)."),
    derived: z
      .array(DerivedFeature)
      .optional()
      .describe("Features computed from the view's aggregates by an expression, the same in training sets and online."),
    tile: DurationText.optional().describe("Tile size of every aggregation of the view (each may override it); see docs/features.md."),
    /** Pushed events older than now minus this are refused (counted in a metric); applied otherwise. Defaults to 1h (DEFAULT_ALLOWED_LATENESS). */
    allowedLateness: Duration.optional().describe(
      "Pushed raw events older than now minus this are refused and counted (features_late_events_total); newer ones are applied. Defaults to 1h.",
    ),
    online: z.boolean().default(true).describe("Served from the online store (materialized or pushed)."),
    offline: z.boolean().default(true).describe("Kept in the offline store for training sets."),
    /** Materialization schedule (cron) for the CronJob; omitted means no scheduled materialization. */
    schedule: cron.optional().describe("Materialization schedule (cron) for the CronJob; omitted means no scheduled materialization."),
    /** Fan-out of scheduled materialization (shards, parallelism); defaults to one writer. */
    materialization: Materialization.optional().describe(
      "Fan-out of scheduled materialization (shards, parallelism); defaults to one writer.",
    ),
    tags: z.record(z.string(), z.string()).default({}),
    description: z.string().default(""),
  })
  .strict();
export type FeatureView = z.output<typeof FeatureView>;

/** A feature reference, "view:feature", as Feast writes it. */
export const FeatureRef = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*$/, 'must be "<feature_view>:<feature>"');

export const FeatureService = z
  .object({
    name: featureName,
    /** Ordered feature references; the model's input tensor follows this order. */
    features: z.array(FeatureRef).min(1).describe("Ordered feature references; the model's input tensor follows this order."),
    description: z.string().default(""),
  })
  .strict();
export type FeatureService = z.output<typeof FeatureService>;

export const PushSource = z
  .object({
    name: featureName,
    featureView: featureName,
    /** More feature views fed by the same pushed rows (Feast: every view whose stream_source is this push source). */
    featureViews: z
      .array(featureName)
      .optional()
      .describe("More feature views fed by the same pushed rows (Feast: every view whose stream_source is this push source)."),
  })
  .strict();
export type PushSource = z.output<typeof PushSource>;

/** A feature computed at request time from request data and other views' features. */
export const OnDemandFeature = z
  .object({
    name: featureName,
    dtype: z.enum(Dtype),
    expression: z
      .string()
      .min(1)
      .describe('An expression over request fields and "view:feature" references, e.g. "amount / card_txn:amount_mean_7d".'),
    description: z.string().default(""),
  })
  .strict();

export const OnDemandFeatureView = z
  .object({
    name: featureName,
    /** Fields the request carries (in the entity rows of a training set, in the request online). */
    request: z.array(Field).default([]).describe("Fields each request carries (online) or each entity row has (training sets)."),
    features: z.array(OnDemandFeature).min(1),
    description: z.string().default(""),
  })
  .strict();
export type OnDemandFeatureView = z.output<typeof OnDemandFeatureView>;

/** One `catalog/features/<team>.yaml` file. */
export const FeatureFile = z
  .object({
    team: dns1123.optional(),
    entities: z.array(Entity).default([]).describe("What features describe (card, customer), with their join keys."),
    featureViews: z.array(FeatureView).default([]).describe("Groups of features read from one source, keyed by entities."),
    featureServices: z.array(FeatureService).default([]).describe("Ordered feature lists a model reads."),
    pushSources: z.array(PushSource).default([]).describe("Sources that push rows straight into a feature view online."),
    onDemandFeatureViews: z
      .array(OnDemandFeatureView)
      .default([])
      .describe("Features computed at request time from request data and other features (never stored)."),
  })
  .strict();
export type FeatureFile = z.output<typeof FeatureFile>;

/** How a model version runs: in the bundled serving service, or in an external runtime behind it. */
export const Runtime = ["onnx", "triton", "kserve-v2", "openai"] as const;
export type Runtime = (typeof Runtime)[number];

const quantity = z
  .string()
  .regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G)?$/, 'must be a Kubernetes quantity like "500m", "1", "512Mi" or "8Gi"');

export const Resources = z
  .object({
    cpu: quantity.default("500m"),
    memory: quantity.default("512Mi"),
    /** Limits default to the requests (Guaranteed QoS for latency-sensitive serving). */
    cpuLimit: quantity.optional().describe("Limits default to the requests (Guaranteed QoS for latency-sensitive serving)."),
    memoryLimit: quantity.optional(),
  })
  .strict();

export const ModelVersion = z
  .object({
    name: dns1123,
    /** `onnx` runs in the bundled serving image; others run `image` with the serving service in front. */
    runtime: z
      .enum(Runtime)
      .default("onnx")
      .describe("`onnx` runs in the bundled serving image; others run `image` with the serving service in front."),
    /** Runtime image for external runtimes (Triton, vLLM, KServe V2); must be pinned by tag or digest. */
    image: z
      .string()
      .optional()
      .describe("Runtime image for external runtimes (Triton, vLLM, KServe V2); must be pinned by tag or digest."),
    /** Where the model lives: s3://, gs://, models:/<name>/<version> (MLflow) or a path. */
    modelUri: z.string().min(1).describe("Where the model lives: s3://, gs://, models:/<name>/<version> (MLflow) or a path."),
    /** Share of live traffic, 0..100; weights of all versions sum to 100. */
    weight: z
      .number()
      .int("must be a whole percentage")
      .min(0, "must be 0 or more")
      .max(100, "must be at most 100: weights are percentages of live traffic and sum to 100")
      .default(0)
      .describe("Share of live traffic, 0..100; the weights of all versions sum to 100. Move it with npm run canary."),
    resources: Resources.default({ cpu: "500m", memory: "512Mi" }).describe("CPU and memory requests (and optional limits) per replica."),
    /** GPUs per replica, and which accelerator; optionally a share of one (a MIG slice or a time-sliced replica). */
    gpu: z
      .object({
        count: z.number().int().min(1).max(8),
        accelerator: z.enum(Accelerator),
        /** A MIG profile (e.g. "1g.10gb") instead of whole GPUs; needs a pool with that profile. */
        mig: z
          .string()
          .regex(/^\d+g\.\d+gb$/, 'must be a MIG profile like "1g.10gb" or "3g.40gb"')
          .optional()
          .describe('A MIG profile (e.g. "1g.10gb") instead of whole GPUs; the stack needs a pool partitioned with it.'),
        /** Run on a time-sliced GPU (shares its memory and compute with other pods). Defaults to false. */
        timeSliced: z
          .boolean()
          .default(false)
          .describe("Run on a pool whose GPUs are time-sliced (no memory isolation). Defaults to false: a whole GPU."),
      })
      .strict()
      .optional()
      .describe("GPUs per replica and the accelerator; the stack needs a GPU pool with it. Not for the onnx runtime."),
    /** What a cold start costs: sizes the startup probe, grace periods and deadlines (components/k8s/cold-start.ts). */
    startup: z
      .object({
        /** Compressed size of the runtime image, GiB. Defaults by runtime (vLLM 10, Triton 15, others 2). */
        imageSizeGb: z.number().positive().optional().describe("Compressed size of the runtime image, GiB. Defaults by runtime."),
        /** Size of the model weights the runtime loads, GiB. Defaults to 16 for GPU versions, 1 otherwise. */
        weightsSizeGb: z.number().positive().optional().describe("Size of the model weights the runtime loads, GiB."),
        /** An explicit budget from pod creation to ready; overrides the derived one. */
        budget: Duration.optional().describe("Explicit budget from pod creation to ready (e.g. 15m); overrides the derived one."),
      })
      .strict()
      .default({})
      .describe("Cold-start inputs: image and weight sizes, or an explicit budget."),
    /** Extra arguments for an external runtime. */
    args: z.array(z.string()).default([]).describe("Extra arguments for an external runtime."),
  })
  .strict();
export type ModelVersion = z.output<typeof ModelVersion>;

export const DriftMethod = ["ks", "chisquare", "ztest", "psi", "wasserstein", "jensenshannon"] as const;
export type DriftMethod = (typeof DriftMethod)[number];

export const Model = z
  .object({
    /** Model name; defaults to the file name. */
    name: dns1123.optional().describe("Model name; defaults to the file name."),
    owner: z.string().min(1).describe("Who to call about this model (team address)."),
    description: z.string().default(""),
    /** The feature service whose features (in order) form the model's input. */
    featureService: featureName.describe("The feature service whose features (in order) form the model's input."),
    /** Stacks this model deploys to (names of stacks/Pulumi.<name>.yaml). Defaults to every stack. */
    stacks: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Stacks this model deploys to (names of stacks/Pulumi.<name>.yaml). Defaults to every stack."),
    versions: z.array(ModelVersion).min(1).describe("The deployed versions: one Deployment and one Istio subset each."),
    /** A version that receives a copy of traffic (responses discarded); not weighted. */
    shadow: z
      .object({
        version: dns1123,
        mirrorPercentage: z
          .number()
          .min(0, "must be 0..100")
          .max(100, "must be at most 100 (a percentage of live requests copied to the shadow)")
          .default(100),
      })
      .strict()
      .optional()
      .describe("A version (weight 0) that receives a copy of mirrorPercentage % of live requests; its answers are discarded."),
    /** Requests with this header set to a version name go to that version, whatever the weights. */
    headerOverride: z
      .object({ header: z.string().default("x-model-version") })
      .strict()
      .default({ header: "x-model-version" })
      .describe("Requests with this header set to a version name go to that version, whatever the weights."),
    /** Canary steps (traffic % for the new version) used by `npm run canary`. */
    canary: z
      .object({ steps: z.array(z.number().int().min(1).max(100)).min(1).default([5, 20, 50, 100]) })
      .strict()
      .default({ steps: [5, 20, 50, 100] })
      .describe("Rising traffic steps (%) for npm run canary -- <model> <version> --step, ending at 100."),
    slo: z
      .object({
        p99LatencyMs: z
          .number()
          .positive()
          .default(100)
          .describe("p99 latency target in milliseconds; retries and timeouts derive from it."),
        /** Maximum share of failed requests, 0..1. */
        errorRate: z.number().min(0).max(1).default(0.01).describe("Maximum share of failed requests, 0..1."),
        /** LLM runtimes (vLLM): p99 time to first token in milliseconds; canary analysis rolls back above it. */
        timeToFirstTokenP99Ms: z
          .number()
          .positive()
          .optional()
          .describe("LLM runtimes (vLLM): p99 time to first token in milliseconds; canary analysis rolls back above it."),
      })
      .strict()
      .default({ p99LatencyMs: 100, errorRate: 0.01 })
      .describe("Service level objective: canary analysis and alerts judge versions against it."),
    autoscaling: z
      .object({
        /** 0 scales to zero when idle: only on dev stacks, or with scaleToZero: true, and a stack that can hold requests. */
        minReplicas: z
          .number()
          .int()
          .min(0)
          .default(1)
          .describe("Fewest replicas per version; 0 scales to zero when idle (dev stacks, or with scaleToZero: true)."),
        maxReplicas: z.number().int().min(1).default(5),
        /** CPU target; used only where KEDA is off (onnx versions on a stack without KEDA). */
        targetCpuUtilization: z.number().int().min(1).max(100).default(70).describe("CPU target where KEDA is off."),
        /**
         * Target per replica of the runtime's queue signal (KEDA): vLLM requests waiting (default 10), the serving
         * image's in-flight requests (default 8), Triton pending requests (default 8).
         */
        queueDepth: z
          .number()
          .positive()
          .optional()
          .describe("Target per replica of the runtime's queue: vLLM requests waiting (10), serving in-flight (8), Triton pending (8)."),
        /** Triton: target queue time over compute time (1 = requests wait as long as they compute). Default 1. */
        queueComputeRatio: z.number().positive().optional().describe("Triton: target queue time / compute time. Default 1."),
        /** vLLM: also scale when KV-cache usage (0..1) passes this. Off by default. */
        kvCacheUsage: z.number().gt(0).max(1).optional().describe("vLLM: also scale out when KV-cache usage (0..1) passes this."),
        /** Allow minReplicas: 0 outside dev stacks (accepting cold starts on the first request). Defaults to false. */
        scaleToZero: z.boolean().default(false).describe("Allow minReplicas: 0 on prod stacks (first requests wait a cold start)."),
        /** Idle time before scaling in (and to zero). */
        cooldown: Duration.default(300).describe("Idle time before scaling in, and to zero."),
      })
      .strict()
      .default({ minReplicas: 1, maxReplicas: 5, targetCpuUtilization: 70, scaleToZero: false, cooldown: 300 })
      .describe("Replica bounds and the queue targets KEDA scales each version on; prod runs at least 2 replicas."),
    /** Share of requests logged with inputs and outputs for drift checks, 0..1. */
    logging: z
      .object({ sampleRate: z.number().min(0).max(1).default(0.1) })
      .strict()
      .default({ sampleRate: 0.1 })
      .describe("Share of requests logged with inputs and outputs for drift checks, 0..1."),
    drift: z
      .object({
        schedule: cron.default("0 * * * *").describe("Cron schedule of the drift check CronJob."),
        /** Dataset drift when this share of features drift (Evidently's default 0.5). */
        driftShare: z
          .number()
          .min(0)
          .max(1)
          .default(0.5)
          .describe("Dataset drift when this share of features drift (Evidently's default 0.5)."),
        /** Window of prediction logs each check reads. */
        window: Duration.default(86400).describe("Window of prediction logs each check reads."),
        /** Per-feature method and threshold overrides. */
        features: z
          .record(z.string(), z.object({ method: z.enum(DriftMethod).optional(), threshold: z.number().positive().optional() }).strict())
          .default({})
          .describe("Per-feature method and threshold overrides, keyed by feature name."),
        /** Called (with retries) when dataset drift is found: a retraining pipeline or a Slack-compatible hook. */
        webhook: z
          .string()
          .url()
          .optional()
          .describe("Called (with retries) when dataset drift is found: a retraining pipeline or a Slack-compatible hook."),
        /**
         * Reference profile (`npm run drift -- profile`) the checks compare with: s3://, gs:// or a path.
         * Defaults to <artifact store>/drift/<model>/reference.profile.json.
         */
        reference: z
          .string()
          .min(1)
          .optional()
          .describe("Reference profile URI the checks compare with (default <artifacts>/drift/<model>/reference.profile.json)."),
      })
      .strict()
      .default({ schedule: "0 * * * *", driftShare: 0.5, window: 86400, features: {} })
      .describe("Scheduled drift checks of live inputs against the training reference."),
    /** Retraining job (see TrainingJob). */
    training: z
      .object({
        image: z.string(),
        command: z.array(z.string()).default([]),
        schedule: cron.optional(),
        resources: Resources.default({ cpu: "1", memory: "2Gi" }),
        gpu: z
          .object({ count: z.number().int().min(1).max(8), accelerator: z.enum(Accelerator) })
          .strict()
          .optional(),
        backoffLimit: z.number().int().min(0).default(2),
        activeDeadline: Duration.default(21600),
      })
      .strict()
      .optional(),
    /** Promotion gates checked by `npm run promote`. */
    gates: z
      .object({
        minMetrics: z.record(z.string(), z.number()).default({}),
        maxSizeMb: z.number().positive().optional(),
        maxP99Ms: z.number().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ModelInput = z.input<typeof Model>;
export type ModelParsed = z.output<typeof Model>;
