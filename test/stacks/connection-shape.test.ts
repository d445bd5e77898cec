import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { AwsFoundation } from "../../components/aws";
import { GcpFoundation } from "../../components/gcp";
import { LocalStores } from "../../components/k8s";
import { WORKLOADS } from "../../components/names";
import { loadPlatform } from "../../definition";
import type { CloudFoundation } from "../../components/types";
import { recorded, useMocks, valueOf } from "../support/mocks";

type Neutral = Omit<CloudFoundation, "cluster" | "nodes">;
const parts: Record<string, Neutral> = {};

/** The URL forms the services open (services/features/online/open.ts, offline/open.ts; MLflow's backend). */
const ONLINE = /^(rediss?:\/\/|dynamodb:\/\/)/;
const OFFLINE = /^(duckdb:|postgres(ql)?:\/\/|bigquery:\/\/[^/]+\/[^/]+$|redshift:\/\/[^/]+\/[^/]+$)/;
const ARTIFACTS = /^(s3|gs):\/\/[^/]+\/.+/;
const DATABASE = /^postgresql:\/\//;

beforeAll(async () => {
  const mocks = await useMocks("shape", { region: "us-east-1", gcpProject: "mlops-dev-4821" });
  const spec = (stack: string) => loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack });
  const aws = spec("aws-dev");
  const gcp = spec("gcp-dev");
  const local = spec("local");
  parts.aws = new AwsFoundation("shape-aws", aws);
  parts.gcp = new GcpFoundation("shape-gcp", gcp);
  parts.local = new LocalStores("shape-local", local).connections;
  await recorded(mocks);
}, 120_000);

async function shape(n: Neutral) {
  return {
    keys: Object.keys(n)
      .filter((k) => ["identities", "online", "offline", "artifacts", "trackingDatabase"].includes(k))
      .sort(),
    identities: Object.keys(n.identities).sort(),
    online: {
      kind: n.online.kind,
      url: await valueOf(n.online.url),
      annotations: typeof (await valueOf(n.online.serviceAccountAnnotations)),
    },
    offline: { kind: n.offline.kind, url: await valueOf(n.offline.url) },
    artifacts: await valueOf(n.artifacts.uri),
    database: await valueOf(n.trackingDatabase.url),
    secretDatabase: await pulumi.isSecret(n.trackingDatabase.url),
  };
}

describe("every cloud hands the Kubernetes layer the same connection shape", () => {
  it.each(["aws", "gcp", "local"])("%s: the same keys, an identity per workload, URLs the services can open", async (cloud) => {
    const s = await shape(parts[cloud] as Neutral);
    expect(s.keys).toEqual(["artifacts", "identities", "offline", "online", "trackingDatabase"]);
    expect(s.identities).toEqual([...WORKLOADS].sort());
    expect(s.online.url).toMatch(ONLINE);
    expect(s.online.annotations).toBe("object");
    expect(s.offline.url).toMatch(OFFLINE);
    expect(s.artifacts).toMatch(ARTIFACTS);
    expect(s.database).toMatch(DATABASE);
    expect(s.secretDatabase).toBe(true);
  });
});
