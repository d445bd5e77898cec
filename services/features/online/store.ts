import type { Dtype } from "../../../definition/catalog";
import type { EntityKeyValue, JoinKey } from "../entity-key";
import type { EpochNanos } from "../timestamp";
import type { FeatureValue, UndecodableValue } from "../values";

/**
 * What an online store needs to know about a feature view: where its rows live (project, name,
 * join keys with their types) and its features. Built once per view from the catalog.
 */
export interface OnlineView {
  project: string;
  name: string;
  /** Join keys in the feature view's declared order; entity keys are aligned with this list. */
  joinKeys: JoinKey[];
  features: { name: string; dtype: Dtype }[];
  /** Seconds a value stays valid; 0 = forever. */
  ttlSeconds: number;
}

/** Values of the join keys, aligned with `OnlineView.joinKeys`. */
export type EntityKey = EntityKeyValue[];

/** One entity row of one feature view as the online store keeps it. */
export interface OnlineRow {
  /** Event time in epoch nanoseconds (Feast's `_ts` keeps seconds and nanos). */
  eventTimestamp: EpochNanos;
  /** Requested features that the row holds; a feature absent here was never written. */
  values: Record<string, FeatureValue | UndecodableValue>;
}

export interface OnlineWrite {
  key: EntityKey;
  /** Event time in epoch nanoseconds (services/features/timestamp.ts converts from seconds, dates, ISO text). */
  eventTimestamp: EpochNanos;
  values: Record<string, FeatureValue>;
}

/** One feature view's part of a lookup. */
export interface ViewRead {
  view: OnlineView;
  keys: EntityKey[];
  features: string[];
}

export interface WriteResult {
  /** Rows written. */
  written: number;
  /** Rows skipped because the store already held a newer or equal event time (Feast's Redis rule, to the nanosecond). */
  skipped: number;
}

/**
 * An online store adapter. Adding a store is one file implementing this and a case in
 * `openOnlineStore`. Errors from the backend surface as StoreUnavailableError (503).
 */
export interface OnlineStore {
  /** Store kind for logs and metric labels: redis, dynamodb, embedded. */
  readonly kind: string;
  /** Reads rows of one view; `undefined` where the entity key has no row. */
  readFeatures(view: OnlineView, entityKeys: EntityKey[], featureNames: string[]): Promise<(OnlineRow | undefined)[]>;
  /** Reads several views in one round trip where the backend allows it (one result list per read). */
  readMany(reads: ViewRead[]): Promise<(OnlineRow | undefined)[][]>;
  /** Writes rows, skipping a row whose event time is not newer than the stored one. */
  writeFeatures(view: OnlineView, rows: OnlineWrite[]): Promise<WriteResult>;
  /** Resolves when the backend answers; rejects with the reason otherwise. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** Options shared by adapters. */
export interface OnlineStoreOptions {
  /** Per-call timeout in ms. Defaults to 1000. */
  timeoutMs?: number;
}

export { openOnlineStore } from "./open";
