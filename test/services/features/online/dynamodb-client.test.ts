import { DynamoDBClient, ScanCommand, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backoffMs, batchWrite, DEFAULT_RETRY, ensureTable } from "../../../../services/features/online/dynamodb-client";
import { startDynalite } from "../support";

/**
 * DynamoDB hands back throttled items of a BatchWriteItem as UnprocessedItems. dynalite never
 * throttles, so a proxy in front of it plays the throttled partition: it forwards only part of
 * each batch to dynalite and answers the rest as unprocessed, and records how many calls were in
 * flight at once. What lands in dynalite is then what the retries delivered.
 */
interface Throttle {
  /** Items of each call answered unprocessed (the rest reach dynalite), while `calls` stays under `until`. */
  withhold: (items: number, call: number) => number;
  calls: number;
  inFlight: number;
  maxInFlight: number;
}

let dynalite: Awaited<ReturnType<typeof startDynalite>>;
let proxy: Server;
let proxyUrl: string;
const throttle: Throttle = { withhold: () => 0, calls: 0, inFlight: 0, maxInFlight: 0 };

function forward(body: Buffer, headers: Record<string, string | string[] | undefined>): Promise<{ status: number; body: string }> {
  const target = new URL(dynalite.endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method: "POST", path: "/", headers: { ...headers, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 500, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dynalite = await startDynalite();
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      let body = Buffer.concat(chunks);
      const isBatchWrite = String(req.headers["x-amz-target"]).endsWith(".BatchWriteItem");
      let withheld: Record<string, WriteRequest[]> = {};
      if (isBatchWrite) {
        throttle.calls++;
        throttle.inFlight++;
        throttle.maxInFlight = Math.max(throttle.maxInFlight, throttle.inFlight);
        const input = JSON.parse(body.toString()) as { RequestItems: Record<string, WriteRequest[]> };
        withheld = {};
        for (const [table, items] of Object.entries(input.RequestItems)) {
          const keep = items.length - Math.min(items.length, throttle.withhold(items.length, throttle.calls));
          if (keep < items.length) withheld[table] = items.slice(keep);
          input.RequestItems[table] = items.slice(0, keep);
        }
        for (const table of Object.keys(input.RequestItems)) if (input.RequestItems[table]?.length === 0) delete input.RequestItems[table];
        body = Buffer.from(JSON.stringify(input));
        // Hold the call a moment, as a loaded table does, so concurrency is visible.
        await new Promise((r) => setTimeout(r, 5));
      }
      const empty = isBatchWrite && Object.keys(JSON.parse(body.toString()).RequestItems).length === 0;
      const reply = empty ? { status: 200, body: JSON.stringify({ UnprocessedItems: {} }) } : await forward(body, req.headers);
      let text = reply.body;
      if (isBatchWrite) {
        throttle.inFlight--;
        const parsed = JSON.parse(text) as { UnprocessedItems?: Record<string, WriteRequest[]> };
        parsed.UnprocessedItems = { ...parsed.UnprocessedItems, ...withheld };
        text = JSON.stringify(parsed);
      }
      // No x-amz-crc32: the body changed, and the SDK checks the checksum only when it is sent.
      res.writeHead(reply.status, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await dynalite?.stop();
});

function client(): DynamoDBClient {
  return new DynamoDBClient({ region: "us-east-1", endpoint: proxyUrl, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

const puts = (n: number, prefix: string): WriteRequest[] =>
  Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { entity_id: { S: `${prefix}${i}` }, n: { N: String(i) } } } }));

async function stored(c: DynamoDBClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
  do {
    const page = await c.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) ids.push(item.entity_id?.S ?? "");
    start = page.LastEvaluatedKey;
  } while (start);
  return ids.sort();
}

describe("batchWrite", () => {
  it("retries unprocessed items until every item is stored, with calls in flight bounded by the parallelism", async () => {
    const c = client();
    await ensureTable(c, "retry_table", "test");
    // The first 20 calls leave 40% of their items unprocessed.
    Object.assign(throttle, { calls: 0, maxInFlight: 0, withhold: (n: number, call: number) => (call <= 20 ? Math.ceil(n * 0.4) : 0) });
    const requests = puts(1000, "k");
    const stats = await batchWrite(c, "retry_table", requests, { parallelism: 4, retry: { baseMs: 1, capMs: 20 } });
    expect(await stored(c, "retry_table")).toEqual(requests.map((r) => r.PutRequest?.Item?.entity_id?.S as string).sort());
    // 40 batches of 25, plus one retry call per withheld batch: the first 20 calls (batches and retries) withheld.
    expect(stats.calls).toBe(40 + 20);
    expect(stats.unprocessed).toBeGreaterThanOrEqual(20);
    expect(throttle.maxInFlight).toBeLessThanOrEqual(4);
    expect(throttle.maxInFlight).toBeGreaterThan(1);
    c.destroy();
  });

  it("fails after the bounded attempts with an error naming the table, what is left and the fix", async () => {
    const c = client();
    await ensureTable(c, "stuck_table", "test");
    Object.assign(throttle, { calls: 0, maxInFlight: 0, withhold: (n: number) => n });
    await expect(
      batchWrite(c, "stuck_table", puts(30, "s"), { parallelism: 2, retry: { maxAttempts: 3, baseMs: 1, capMs: 5 } }),
    ).rejects.toThrow(
      /table "stuck_table": 25 of 25 items still unprocessed \(throttled\) after 3 BatchWriteItem attempts.*raise the table's write capacity/,
    );
    c.destroy();
  });
});

describe("backoffMs", () => {
  it("is full jitter under a ceiling that doubles from the base up to the cap", () => {
    const top = (attempt: number) => backoffMs(attempt, DEFAULT_RETRY, () => 0.999999);
    expect([1, 2, 3, 4].map(top)).toEqual([49, 99, 199, 399]);
    expect(top(20)).toBe(DEFAULT_RETRY.capMs - 1);
    expect(backoffMs(5, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});
