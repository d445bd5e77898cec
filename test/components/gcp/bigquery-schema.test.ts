import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bigQuerySchema, bigQueryType, offlineTableSettings, offlineTableViews, ownsOfflineTable } from "../../../components/gcp";
import { type Catalog, Dtype, type FeatureView, type Origin } from "../../../definition";
import { loadGcpStack } from "./fixture";

const origin = (path: string): Origin => ({ file: "catalog/features/test.yaml", path });

function view(name: string, overrides: Partial<FeatureView> = {}): FeatureView & { origin: Origin } {
  return {
    name,
    entities: ["user"],
    ttl: 86400,
    fields: [{ name: "clicks", dtype: "Int64", description: "" }],
    source: { table: name, timestampField: "event_timestamp" },
    online: true,
    offline: true,
    tags: {},
    description: "",
    ...overrides,
    origin: origin(`featureViews[${name}]`),
  };
}

function catalogOf(...views: (FeatureView & { origin: Origin })[]): Catalog {
  return {
    project: "test",
    entities: {
      user: { name: "user", joinKeys: ["user_id"], valueType: "INT32", description: "", origin: origin("entities[0]") },
      device: { name: "device", joinKeys: ["device_id", "os"], valueType: "BYTES", description: "", origin: origin("entities[1]") },
      account: { name: "account", joinKeys: ["user_id"], valueType: "INT64", description: "", origin: origin("entities[2]") },
    },
    featureViews: Object.fromEntries(views.map((v) => [v.name, v])),
    featureServices: {},
    pushSources: {},
    models: {},
  };
}

describe("bigQueryType", () => {
  const scalar: Record<string, string> = {
    Int32: "INT64",
    Int64: "INT64",
    Float32: "FLOAT64",
    Float64: "FLOAT64",
    String: "STRING",
    Bytes: "BYTES",
    Bool: "BOOL",
    UnixTimestamp: "TIMESTAMP",
  };

  it.each(Object.entries(scalar))("maps %s to a nullable %s column", (dtype, type) => {
    expect(bigQueryType(dtype as Dtype)).toEqual({ type, mode: "NULLABLE" });
  });

  it.each(Object.entries(scalar))("maps Array(%s) to a repeated %s column", (dtype, type) => {
    expect(bigQueryType(`Array(${dtype})` as Dtype)).toEqual({ type, mode: "REPEATED" });
  });

  it("covers every dtype the catalog schema accepts", () => {
    for (const dtype of Dtype) expect(() => bigQueryType(dtype)).not.toThrow();
  });
});

describe("bigQuerySchema", () => {
  it("orders join keys, event time, created time, then features, with entity key types widened", () => {
    const catalog = catalogOf(
      view("sessions", {
        entities: ["user", "device"],
        source: { table: "sessions", timestampField: "ts", createdTimestampField: "written_at" },
        fields: [
          { name: "duration_s", dtype: "Float32", description: "Session length." },
          { name: "pages", dtype: "Array(String)", description: "" },
        ],
      }),
    );
    expect(bigQuerySchema(catalog, "sessions")).toEqual([
      { name: "user_id", type: "INT64", mode: "REQUIRED", description: "Join key of entity user" },
      { name: "device_id", type: "BYTES", mode: "REQUIRED", description: "Join key of entity device" },
      { name: "os", type: "BYTES", mode: "REQUIRED", description: "Join key of entity device" },
      { name: "ts", type: "TIMESTAMP", mode: "REQUIRED", description: "Event time of the row" },
      {
        name: "written_at",
        type: "TIMESTAMP",
        mode: "NULLABLE",
        description: "When the row was written; breaks ties between equal event times",
      },
      { name: "duration_s", type: "FLOAT64", mode: "NULLABLE", description: "Session length." },
      { name: "pages", type: "STRING", mode: "REPEATED" },
    ]);
  });

  it("keeps every feature, in order, as one column of its dtype, after the keys and timestamps", () => {
    const fieldName = fc.stringMatching(/^f_[a-z0-9_]{1,12}$/);
    const fields = fc.uniqueArray(fc.record({ name: fieldName, dtype: fc.constantFrom(...Dtype) }), {
      minLength: 1,
      maxLength: 20,
      selector: (f) => f.name,
    });
    fc.assert(
      fc.property(fields, fc.boolean(), (generated, withCreated) => {
        const catalog = catalogOf(
          view("v", {
            fields: generated.map((f) => ({ ...f, description: "" })),
            source: { table: "v", timestampField: "event_timestamp", ...(withCreated ? { createdTimestampField: "created" } : {}) },
          }),
        );
        const columns = bigQuerySchema(catalog, "v");
        const head = withCreated ? 3 : 2;
        expect(columns).toHaveLength(head + generated.length);
        generated.forEach((f, i) => {
          const column = columns[head + i];
          expect(column?.name).toBe(f.name);
          expect(column?.mode).toBe(f.dtype.startsWith("Array(") ? "REPEATED" : "NULLABLE");
          expect(column?.type).toBe(bigQueryType(f.dtype).type);
        });
      }),
    );
  });

  it("writes a join key shared by two entities once", () => {
    const catalog = catalogOf(view("joint", { entities: ["user", "account"] }));
    expect(bigQuerySchema(catalog, "joint").filter((c) => c.name === "user_id")).toHaveLength(1);
  });

  it("refuses a feature named like the timestamp column, naming the file and field", () => {
    const catalog = catalogOf(view("clash", { fields: [{ name: "event_timestamp", dtype: "Int64", description: "" }] }));
    expect(() => bigQuerySchema(catalog, "clash")).toThrow(
      'catalog/features/test.yaml: featureViews[clash].fields[0]: column "event_timestamp" appears twice in the table of feature view "clash"; rename the feature or the timestamp field',
    );
  });

  it("refuses a view that is not in the catalog", () => {
    expect(() => bigQuerySchema(catalogOf(), "nope")).toThrow('feature view "nope" is not in the catalog');
  });
});

describe("offline tables", () => {
  it("belong only to offline views whose source is a table of the platform's own dataset", () => {
    expect(ownsOfflineTable(view("a"))).toBe(true);
    expect(ownsOfflineTable(view("b", { offline: false }))).toBe(false);
    expect(ownsOfflineTable(view("c", { source: { query: "SELECT 1", timestampField: "event_timestamp" } }))).toBe(false);
    expect(ownsOfflineTable(view("d", { source: { table: "other_project.raw.events", timestampField: "event_timestamp" } }))).toBe(false);
  });

  it("refuses two views writing the same table", () => {
    const catalog = catalogOf(
      view("a", { source: { table: "shared", timestampField: "event_timestamp" } }),
      view("b", { source: { table: "shared", timestampField: "event_timestamp" } }),
    );
    expect(() => offlineTableViews(catalog)).toThrow('"shared" is also the table of feature view "a"');
  });

  it("cluster by at most four join keys, BigQuery's limit", () => {
    const catalog = catalogOf(view("wide", { entities: ["user", "device"] }));
    catalog.entities.device = { ...catalog.entities.device!, joinKeys: ["k1", "k2", "k3", "k4"] };
    const [table] = offlineTableSettings(loadGcpStack("gcp-dev").stack, catalog);
    expect(table?.clusterings).toEqual(["user_id", "k1", "k2", "k3"]);
    expect(table?.timePartitioning).toEqual({ type: "DAY", field: "event_timestamp" });
  });

  it("are one per offline feature view of the example catalog", () => {
    const { stack, catalog } = loadGcpStack("gcp-prod");
    const tables = offlineTableSettings(stack, catalog);
    expect(tables.map((t) => t.tableId).sort()).toEqual([
      "card_profile",
      "card_realtime",
      "customer_profile",
      "merchant_stats",
      "transactions",
    ]);
    expect(tables.every((t) => t.deletionProtection)).toBe(true);
  });
});
