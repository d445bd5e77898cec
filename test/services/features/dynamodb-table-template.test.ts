import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoUrl } from "../../../components/aws/dynamodb";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { nanosFromSeconds } from "../../../services/features/timestamp";
import { fixtureCatalog, startDynalite } from "./support";

let dynalite: Awaited<ReturnType<typeof startDynalite>>;
let store: OnlineStore;
const view = onlineViewOf(fixtureCatalog(), "driver_hourly_stats");

beforeAll(async () => {
  dynalite = await startDynalite();
  // The URL the AWS layer hands the features service, pointed at a local DynamoDB.
  store = await openOnlineStore(`${dynamoUrl("us-east-1", "aws-dev2")}&endpoint=${encodeURIComponent(dynalite.endpoint)}`);
});
afterAll(async () => {
  await store?.close();
  await dynalite?.stop();
});

describe("DynamoDB online store table names", () => {
  it("follows the stack's table name template from the URL, as Pulumi names the tables", async () => {
    const feature = view.features[0]?.name as string;
    await store.writeFeatures(view, [{ key: [1001], eventTimestamp: nanosFromSeconds(1_700_000_000), values: { [feature]: null } }]);
    const client = new DynamoDBClient({
      region: "us-east-1",
      endpoint: dynalite.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const tables = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    expect(tables).toEqual([`${view.project}.aws-dev2.${view.name}`]);
    const [row] = await store.readFeatures(view, [[1001]], [feature]);
    expect(row?.eventTimestamp).toBe(nanosFromSeconds(1_700_000_000));
  });
});
