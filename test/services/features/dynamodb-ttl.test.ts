import { nanosFromSeconds } from "../../../services/features/timestamp";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { fixtureCatalog, startDynalite } from "./support";

let dynalite: Awaited<ReturnType<typeof startDynalite>>;
let store: OnlineStore;
const catalog = fixtureCatalog();
const view = onlineViewOf(catalog, "driver_hourly_stats");

beforeAll(async () => {
  dynalite = await startDynalite();
  store = await openOnlineStore(`dynamodb://us-east-1?endpoint=${encodeURIComponent(dynalite.endpoint)}`);
});
afterAll(async () => {
  await store?.close();
  await dynalite?.stop();
});

describe("DynamoDB online store TTL", () => {
  it("writes expires_at = event time + the view's TTL, the attribute the table's TTL deletes by", async () => {
    const feature = view.features[0]?.name as string;
    await store.writeFeatures(view, [{ key: [1001], eventTimestamp: nanosFromSeconds(1_700_000_000), values: { [feature]: null } }]);
    const client = new DynamoDBClient({
      region: "us-east-1",
      endpoint: dynalite.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const items = (await client.send(new ScanCommand({ TableName: `${view.project}.${view.name}` }))).Items ?? [];
    expect(items).toHaveLength(1);
    expect(view.ttlSeconds).toBe(7200);
    expect(items[0]?.expires_at?.N).toBe(String(1_700_000_000 + 7200));
  });
});
