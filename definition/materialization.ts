import { z } from "zod";

/**
 * How a feature view's scheduled materialization fans out: its CronJob's Job runs `shards`
 * Indexed pods, each writing the keys whose stable hash falls in its shard
 * (services/features/offline/export.ts). Pure: the components and the features service read it.
 */

/** Rows one writer takes per run by default: about 3-4 minutes at 100k rows/s, far inside the run's deadline. */
export const ROWS_PER_SHARD = 20_000_000;
/** Most shards a view gets by default; more is allowed when set explicitly (up to MAX_SHARDS). */
export const DEFAULT_MAX_SHARDS = 32;
/** Kubernetes allows 100k completions; beyond a few hundred writers the online store, not the writers, is the limit. */
export const MAX_SHARDS = 256;

export const Materialization = z
  .object({
    /** Writer pods per run (the Indexed Job's completions and parallelism). Defaults to expectedRows / 20M, at least 1, at most 32. */
    shards: z
      .number()
      .int()
      .min(1)
      .max(MAX_SHARDS)
      .optional()
      .describe(
        "Writer pods per run (the Indexed Job's completions and parallelism). Defaults to expectedRows / 20M, at least 1, at most 32.",
      ),
    /** Pods running at once; defaults to shards (all at once). Lower it to spare the online store. */
    parallelism: z
      .number()
      .int()
      .min(1)
      .max(MAX_SHARDS)
      .optional()
      .describe("Pods running at once; defaults to shards (all at once). Lower it to spare the online store."),
    /** Latest rows per run you expect (keys in the window); sets the default shards. */
    expectedRows: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Latest rows per run you expect (keys in the window); sets the default shards."),
  })
  .strict();
export type Materialization = z.output<typeof Materialization>;

/** Shards of a view: as declared, else one per ROWS_PER_SHARD expected rows (1..DEFAULT_MAX_SHARDS). */
export function materializationShards(materialization: Materialization | undefined): number {
  if (materialization?.shards !== undefined) return materialization.shards;
  const rows = materialization?.expectedRows ?? 0;
  return Math.min(DEFAULT_MAX_SHARDS, Math.max(1, Math.ceil(rows / ROWS_PER_SHARD)));
}

/** Pods at once: as declared (never above the shards), else all shards. */
export function materializationParallelism(materialization: Materialization | undefined): number {
  const shards = materializationShards(materialization);
  return Math.min(shards, materialization?.parallelism ?? shards);
}

/**
 * The materialization state table of a DynamoDB online store: this name in the store's
 * `table_name_template` (no feature view name starts with "_"), hash key `state_key`.
 */
export const DYNAMO_STATE_TABLE = { tableName: "_materialization", hashKey: "state_key" } as const;

/**
 * Exit codes of `features materialize`, read by the Job's podFailurePolicy: a usage or catalog
 * error fails the whole Job at once (retrying cannot fix a bad definition); any other failure
 * (store outage, killed pod) is retried for that shard alone.
 */
export const MATERIALIZE_EXIT_CODES = { failure: 1, usage: 2, definition: 3 } as const;
