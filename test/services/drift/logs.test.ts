import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  hourPrefixes,
  isLogKey,
  listWindowKeys,
  type LogStore,
  localStore,
  parseStoreUrl,
  readLogWindow,
} from "../../../services/drift/logs";

const window = { start: new Date("2026-11-22T22:30:00Z"), end: new Date("2026-11-23T01:00:00Z") };

describe("prediction-log key layout", () => {
  it("a window maps to every UTC hour folder it overlaps, across midnight", () => {
    expect(hourPrefixes("fraud", window)).toEqual(["fraud/2026-11-22/22/", "fraud/2026-11-22/23/", "fraud/2026-11-23/00/"]);
  });
  it("only <version>-<pid>-<seq>.jsonl directly in the hour folder is a log file", () => {
    const prefix = "fraud/2026-11-22/22/";
    expect(isLogKey(`${prefix}v2-1234-0.jsonl`, prefix)).toBe(true);
    expect(isLogKey(`${prefix}v2-canary-1234-17.jsonl`, prefix)).toBe(true);
    expect(isLogKey(`${prefix}v2-1234-0.jsonl.tmp`, prefix)).toBe(false);
    expect(isLogKey(`${prefix}nested/v2-1-0.jsonl`, prefix)).toBe(false);
    expect(isLogKey("fraud/2026-11-22/23/v2-1-0.jsonl", prefix)).toBe(false);
  });
  it("lists keys hour by hour from a store and keeps only log files, in order", async () => {
    const listed: string[] = [];
    const objects = [
      "fraud/2026-11-22/21/v1-1-0.jsonl",
      "fraud/2026-11-22/22/v1-1-1.jsonl",
      "fraud/2026-11-22/22/v1-1-0.jsonl",
      "fraud/2026-11-22/22/_SUCCESS",
      "fraud/2026-11-23/00/v2-9-0.jsonl",
      "fraud/2026-11-23/01/v2-9-1.jsonl",
      "other/2026-11-22/22/v1-1-0.jsonl",
    ];
    const store: LogStore = {
      async list(prefix) {
        listed.push(prefix);
        return objects.filter((k) => k.startsWith(prefix));
      },
      async read() {
        return "";
      },
    };
    expect(await listWindowKeys(store, "fraud", window)).toEqual([
      "fraud/2026-11-22/22/v1-1-0.jsonl",
      "fraud/2026-11-22/22/v1-1-1.jsonl",
      "fraud/2026-11-23/00/v2-9-0.jsonl",
    ]);
    expect(listed).toHaveLength(3);
  });
  it("parses s3:// and gs:// roots, and leaves local paths alone", () => {
    expect(parseStoreUrl("s3://logs-bucket/predictions/")).toEqual({ scheme: "s3", bucket: "logs-bucket", prefix: "predictions/" });
    expect(parseStoreUrl("gs://b")).toEqual({ scheme: "gs", bucket: "b", prefix: "" });
    expect(parseStoreUrl("/var/log/predictions")).toBeUndefined();
  });
});

describe("reading a window of local prediction logs", () => {
  it("returns the features of records inside the window and counts what it skipped", async () => {
    const root = mkdtempSync(join(tmpdir(), "drift-logs-"));
    const record = (timestamp: string, features: Record<string, unknown>, model = "fraud") =>
      JSON.stringify({ timestamp, model, version: "v1", request_id: "r", entities: { card: 1 }, features, outputs: { score: 0.1 } });
    mkdirSync(join(root, "fraud/2026-11-22/22"), { recursive: true });
    mkdirSync(join(root, "fraud/2026-11-23/00"), { recursive: true });
    writeFileSync(
      join(root, "fraud/2026-11-22/22/v1-100-0.jsonl"),
      [
        record("2026-11-22T22:10:00Z", { amount: 1 }),
        record("2026-11-22T22:40:00Z", { amount: 2, channel: "web" }),
        "{not json",
        record("2026-11-22T22:41:00Z", { amount: 9 }, "other"),
      ].join("\n"),
    );
    writeFileSync(
      join(root, "fraud/2026-11-23/00/v1-100-1.jsonl"),
      `${record("2026-11-23T00:59:59.999Z", { amount: 3, channel: null })}\n${record("2026-11-23T01:00:00Z", { amount: 4 })}\n`,
    );
    const { table, stats } = await readLogWindow(localStore(root), "fraud", window);
    expect(table.rows).toBe(2);
    expect(table.columns.amount).toEqual([2, 3]);
    expect(table.columns.channel).toEqual(["web", null]);
    expect(stats).toEqual({ files: 2, records: 2, malformed: 1, outsideWindow: 2, otherModel: 1 });
  });
});
