import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { StoreUnavailableError } from "../../core/errors";

/**
 * The one DynamoDB client of the features service: Feast's tables (dynamodb.ts), the tiles of
 * aggregated views (aggregations/dynamodb-tiles.ts) and the materialization state
 * (materialize-state.ts) share its options, tables and batching.
 *
 * The write path at volume: BatchWriteItem takes 25 items per call and may hand back any
 * of them as `UnprocessedItems` when a partition is throttled (the call itself succeeds). A
 * materialization of millions of rows therefore needs (1) several calls in flight, bounded so a
 * writer does not drown its own table, and (2) retries of what came back unprocessed, spaced out
 * so a throttled partition can recover: AWS's "exponential backoff with full jitter"
 * (sleep = random(0, min(cap, base * 2^attempt))). Attempts are bounded and the error says what
 * is left and what to change.
 */

/** The TTL attribute every table is created with (epoch seconds). */
export const EXPIRES_AT = "expires_at";

/** Where a store's tables are: `dynamodb://<region>[?endpoint=URL][&tableNameTemplate=...]`. */
export interface DynamoConnection {
  region: string;
  /** A local endpoint (dynalite, DynamoDB Local); absent = AWS. */
  endpoint?: string;
  /** Table name per feature view, Feast's `table_name_template`. Defaults to "{project}.{table_name}". */
  tableNameTemplate?: string;
  /** Per-call timeout in ms. Defaults to 1000. */
  timeoutMs?: number;
}

export function dynamoOptionsOf(url: string): DynamoConnection {
  const parsed = new URL(url);
  if (!parsed.hostname) throw new Error(`online store "${url}": give the region, like dynamodb://us-east-1`);
  return {
    region: parsed.hostname,
    endpoint: parsed.searchParams.get("endpoint") ?? undefined,
    tableNameTemplate: parsed.searchParams.get("tableNameTemplate") ?? undefined,
  };
}

/** A client with the store's timeouts; a local endpoint gets dummy credentials, AWS the default chain (IRSA). */
export function dynamoClient(options: DynamoConnection): DynamoDBClient {
  const timeout = options.timeoutMs ?? 1000;
  return new DynamoDBClient({
    region: options.region,
    endpoint: options.endpoint,
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: timeout, requestTimeout: timeout }),
    ...(options.endpoint && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}

/** A table's name from Feast's `table_name_template` ("{project}.{table_name}" by default). */
export function dynamoTableOf(template: string | undefined, project: string, tableName: string): string {
  return (template ?? "{project}.{table_name}").replaceAll("{project}", project).replaceAll("{table_name}", tableName);
}

/**
 * Creates the table (on-demand, hash key entity_id, or `hashKey`) when it does not exist and waits
 * until it is active. On AWS the tables are Pulumi's (components/aws/dynamodb.ts) and exist already;
 * this is for local endpoints and stacks without them.
 */
export async function ensureTable(client: DynamoDBClient, table: string, store: string, hashKey = "entity_id"): Promise<void> {
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw new StoreUnavailableError(`${store} (${operation})`, error);
    }
  };
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw new StoreUnavailableError(`${store} (DescribeTable)`, error);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: "S" }],
      }),
    );
  } catch (error) {
    // Another writer created it first (ResourceInUseException; dynalite answers it less clearly): fine if it exists now.
    const exists = await client.send(new DescribeTableCommand({ TableName: table })).then(
      () => true,
      () => false,
    );
    if (!exists) throw new StoreUnavailableError(`${store} (CreateTable)`, error);
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await call("DescribeTable", () => client.send(new DescribeTableCommand({ TableName: table })));
    if (Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** BatchGetItem's limit of keys per call. */
export const BATCH_GET_KEYS = 100;

/**
 * Reads items by key, 100 per BatchGetItem, retrying unprocessed keys with backoff (lookups get
 * a short ceiling: a lookup that waits seconds is worse than a 503). ResourceNotFoundException
 * (no table yet) is passed through for the caller to read as "no items".
 */
export async function batchGet(
  client: Pick<DynamoDBClient, "send">,
  table: string,
  keys: Record<string, AttributeValue>[],
  options: { consistent?: boolean; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string>; store?: string } = {},
): Promise<Record<string, AttributeValue>[]> {
  const policy: RetryPolicy = { maxAttempts: 9, baseMs: 25, capMs: 1000 };
  const store = options.store ?? "dynamodb online store";
  const { consistent, store: _store, ...projection } = options;
  const items: Record<string, AttributeValue>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
    let pending = keys.slice(i, i + BATCH_GET_KEYS);
    for (let attempt = 1; pending.length > 0; attempt++) {
      let reply: BatchGetItemCommandOutput;
      try {
        reply = await client.send(
          new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: consistent, ...projection } } }),
        );
      } catch (error) {
        if (error instanceof ResourceNotFoundException) throw error;
        throw new StoreUnavailableError(`${store} (BatchGetItem)`, error);
      }
      items.push(...(reply.Responses?.[table] ?? []));
      pending = reply.UnprocessedKeys?.[table]?.Keys ?? [];
      if (pending.length === 0) break;
      if (attempt >= policy.maxAttempts)
        throw new StoreUnavailableError(
          store,
          `table "${table}": ${pending.length} keys still unprocessed after ${attempt} BatchGetItem attempts`,
        );
      await new Promise((r) => setTimeout(r, backoffMs(attempt, policy)));
    }
  }
  return items;
}

/** BatchWriteItem's limit of items per call. */
export const BATCH_WRITE_ITEMS = 25;

export interface RetryPolicy {
  /** Calls of one batch before it fails (the first included). Defaults to 10. */
  maxAttempts: number;
  /** First backoff ceiling in ms. Defaults to 50. */
  baseMs: number;
  /** Largest backoff ceiling in ms. Defaults to 5000. */
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseMs: 50, capMs: 5000 };

/** Batch writes in flight per writer by default: 8 x 25 items, well under a fresh on-demand table's 4,000 writes/s per partition. */
export const DEFAULT_WRITE_PARALLELISM = 8;

/** The wait before retry `attempt` (1 = first retry): full jitter under an exponential ceiling. Pure given `random`. */
export function backoffMs(attempt: number, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Throttling DynamoDB reports as an error of the whole call (rather than as unprocessed items): retried like them. */
export function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? "";
  return ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"].includes(name);
}

/** Runs `work` over `items` with at most `parallelism` in flight; rejects with the first failure (the rest are not started). */
export async function forEachBounded<T>(items: T[], parallelism: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, items.length)) }, lane));
}

export interface BatchWriteOptions {
  parallelism?: number;
  retry?: Partial<RetryPolicy>;
  /** Where failures are reported (names the store in the 503). */
  store?: string;
  sleep?: (ms: number) => Promise<void>;
}

export interface BatchWriteStats {
  calls: number;
  /** Items DynamoDB returned unprocessed, summed over calls (each was retried). */
  unprocessed: number;
}

/**
 * Writes `requests` to `table` in 25-item BatchWriteItem calls, `parallelism` at a time, retrying
 * unprocessed items and throttled calls with backoff. Resolves once DynamoDB accepted every item.
 */
export async function batchWrite(
  client: Pick<DynamoDBClient, "send">,
  table: string,
  requests: WriteRequest[],
  options: BatchWriteOptions = {},
): Promise<BatchWriteStats> {
  const policy = { ...DEFAULT_RETRY, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const store = options.store ?? "dynamodb online store";
  const stats: BatchWriteStats = { calls: 0, unprocessed: 0 };
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_ITEMS) batches.push(requests.slice(i, i + BATCH_WRITE_ITEMS));
  await forEachBounded(batches, options.parallelism ?? DEFAULT_WRITE_PARALLELISM, async (batch) => {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      stats.calls++;
      try {
        const reply = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = reply.UnprocessedItems?.[table] ?? [];
      } catch (error) {
        if (!isThrottle(error)) throw new StoreUnavailableError(`${store} (BatchWriteItem)`, error);
      }
      if (pending.length === 0) return;
      stats.unprocessed += pending.length;
      if (attempt >= policy.maxAttempts)
        throw new StoreUnavailableError(
          store,
          `table "${table}": ${pending.length} of ${batch.length} items still unprocessed (throttled) after ${attempt} BatchWriteItem attempts with backoff up to ${policy.capMs} ms; raise the table's write capacity (or use on-demand), or lower the writers' parallelism`,
        );
      await sleep(backoffMs(attempt, policy));
    }
  });
  return stats;
}
