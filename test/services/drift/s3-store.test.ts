import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLogWindow, s3Store } from "../../../services/drift/logs";

/**
 * A tiny S3 stand-in (ListObjectsV2 with pages of 2 keys, GetObject) on a local port: the real
 * AWS SDK client and our pagination run against it; no cloud call.
 */
const objects: Record<string, string> = {
  "preds/fraud/2026-11-23/10/v1-1-0.jsonl": `${JSON.stringify({ timestamp: "2026-11-23T10:05:00Z", model: "fraud", features: { amount: 1 } })}\n`,
  "preds/fraud/2026-11-23/10/v1-1-1.jsonl": `${JSON.stringify({ timestamp: "2026-11-23T10:06:00Z", model: "fraud", features: { amount: 2 } })}\n`,
  "preds/fraud/2026-11-23/10/v1-2-0.jsonl": `${JSON.stringify({ timestamp: "2026-11-23T10:07:00Z", model: "fraud", features: { amount: 3 } })}\n`,
  "preds/fraud/2026-11-23/10/_tmp/partial": "ignored",
  "preds/fraud/2026-11-23/11/v1-1-2.jsonl": `${JSON.stringify({ timestamp: "2026-11-23T11:01:00Z", model: "fraud", features: { amount: 4 } })}\n`,
};
const listCalls: string[] = [];
let server: Server;
let endpoint = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const [, bucket, ...keyParts] = url.pathname.split("/");
    if (bucket !== "logs") return void res.writeHead(404).end();
    if (url.searchParams.get("list-type") === "2") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const start = Number(url.searchParams.get("continuation-token") ?? "0");
      listCalls.push(`${prefix}@${start}`);
      const keys = Object.keys(objects)
        .filter((k) => k.startsWith(prefix))
        .sort();
      const page = keys.slice(start, start + 2);
      const truncated = start + 2 < keys.length;
      const body = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>logs</Name><Prefix>${prefix}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${start + 2}</NextContinuationToken>` : ""}${page.map((k) => `<Contents><Key>${k}</Key><Size>${objects[k]!.length}</Size></Contents>`).join("")}</ListBucketResult>`;
      return void res.writeHead(200, { "content-type": "application/xml" }).end(body);
    }
    const key = decodeURIComponent(keyParts.join("/"));
    if (!(key in objects)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(objects[key]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("prediction logs in S3", () => {
  it("follows ListObjectsV2 continuation tokens and reads only the window's log objects", async () => {
    const store = await s3Store("logs", "preds/", {
      endpoint,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const { table, stats } = await readLogWindow(store, "fraud", {
      start: new Date("2026-11-23T10:00:00Z"),
      end: new Date("2026-11-23T11:00:00Z"),
    });
    expect(table.columns.amount).toEqual([1, 2, 3]);
    expect(stats.files).toBe(3);
    // One hour folder, two pages of two keys.
    expect(listCalls).toEqual(["preds/fraud/2026-11-23/10/@0", "preds/fraud/2026-11-23/10/@2"]);
  });
});
