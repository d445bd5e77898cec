import { beforeAll, describe, expect, it } from "vitest";
import { REQUIRED_APIS } from "../../../components/gcp";
import type { PlanResource } from "../../../components/plan-resource";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import { EXPECTED } from "./expected";
import { type BuiltFoundation, buildGcpFoundations, GCP_STACKS, type GcpStackName } from "./fixture";

let built: Record<GcpStackName, BuiltFoundation>;
let everything: PlanResource[];
beforeAll(async () => {
  const mocks = await useMocks("gcp-identity", { region: "us-central1", gcpProject: "mlops-dev-4821" });
  built = await buildGcpFoundations(mocks);
  everything = mocks.resources;
  expect(mocks.unknownInvokes).toEqual([]);
});

// biome-ignore lint/suspicious/noExplicitAny: recorded engine inputs are untyped JSON, read by path in assertions
type Inputs = Record<string, any>;

/** Where each labelable GCP type keeps its labels. */
const LABEL_PATHS: Record<string, string[]> = {
  "gcp:container/cluster:Cluster": ["resourceLabels"],
  "gcp:container/nodePool:NodePool": ["nodeConfig", "resourceLabels"],
  "gcp:kms/cryptoKey:CryptoKey": ["labels"],
  "gcp:compute/globalAddress:GlobalAddress": ["labels"],
  "gcp:storage/bucket:Bucket": ["labels"],
  "gcp:redis/instance:Instance": ["labels"],
  "gcp:bigquery/dataset:Dataset": ["labels"],
  "gcp:bigquery/table:Table": ["labels"],
  "gcp:sql/databaseInstance:DatabaseInstance": ["settings", "userLabels"],
};
/** Types whose GCP API has no labels (checked against @pulumi/gcp's Args interfaces). */
const NOT_LABELABLE = [
  "gcp:projects/service:Service",
  "gcp:compute/network:Network",
  "gcp:compute/subnetwork:Subnetwork",
  "gcp:compute/router:Router",
  "gcp:compute/routerNat:RouterNat",
  "gcp:compute/firewall:Firewall",
  "gcp:servicenetworking/connection:Connection",
  "gcp:kms/keyRing:KeyRing",
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
  "gcp:serviceaccount/account:Account",
  "gcp:serviceaccount/iAMMember:IAMMember",
  "gcp:projects/iAMMember:IAMMember",
  "gcp:storage/bucketIAMMember:BucketIAMMember",
  "gcp:bigquery/datasetIamMember:DatasetIamMember",
  "gcp:sql/database:Database",
  "gcp:sql/user:User",
  "random:index/randomPassword:RandomPassword",
];
/** Resources holding data or keys: protected, and retained on delete in prod. */
const STATEFUL = [
  "gcp:redis/instance:Instance",
  "gcp:sql/databaseInstance:DatabaseInstance",
  "gcp:sql/database:Database",
  "gcp:bigquery/dataset:Dataset",
  "gcp:bigquery/table:Table",
  "gcp:storage/bucket:Bucket",
  "gcp:kms/keyRing:KeyRing",
  "gcp:kms/cryptoKey:CryptoKey",
];
/** Types that take no project argument (their parent resource's id carries it). */
const NO_PROJECT_INPUT = [
  "gcp:servicenetworking/connection:Connection",
  "gcp:kms/cryptoKey:CryptoKey",
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
  "gcp:serviceaccount/iAMMember:IAMMember",
  "gcp:storage/bucketIAMMember:BucketIAMMember",
];

const at = (value: Inputs, path: string[]) => path.reduce<Inputs | undefined>((v, k) => v?.[k], value);

describe.each(GCP_STACKS)("GCP identities and guard rails of %s", (stackName) => {
  const want = EXPECTED[stackName];
  const custom = () => built[stackName].resources.filter((r) => r.custom);
  const accountOf = (workload: string) => built[stackName].one("gcp:serviceaccount/account:Account", `-identity-${workload}`);

  it("creates one Google service account per workload, usable only by that workload's Kubernetes ServiceAccount", () => {
    const namespaces = { features: "mlops", drift: "mlops", tracking: "mlops", serving: "models", training: "models" };
    for (const [workload, namespace] of Object.entries(namespaces)) {
      const account = accountOf(workload);
      expect(account.inputs).toMatchObject({ project: want.project, accountId: `mlops-${stackName}-${workload}` });
      const bindings = built[stackName]
        .ofType("gcp:serviceaccount/iAMMember:IAMMember")
        .filter((r) => r.inputs.serviceAccountId === account.outputs.name);
      expect(bindings.map((b) => b.inputs)).toEqual([
        {
          serviceAccountId: account.outputs.name,
          role: "roles/iam.workloadIdentityUser",
          member: `serviceAccount:${want.project}.svc.id.goog[${namespace}/${workload}]`,
        },
      ]);
    }
  });

  it("hands each workload the GKE annotation naming its service account", async () => {
    const identities = built[stackName].foundation.identities;
    expect(Object.keys(identities).sort()).toEqual(["drift", "features", "serving", "tracking", "training"]);
    for (const [workload, annotations] of Object.entries(identities)) {
      expect(await outputValue(annotations)).toEqual({ "iam.gke.io/gcp-service-account": accountOf(workload).outputs.email });
    }
  });

  it("lets features and training edit the offline dataset's tables and run query jobs, nothing more", () => {
    const b = built[stackName];
    const datasetId = b.one("gcp:bigquery/dataset:Dataset", "-offline-dataset").outputs.datasetId;
    for (const workload of ["features", "training"]) {
      const member = accountOf(workload).outputs.member;
      expect(
        b
          .ofType("gcp:bigquery/datasetIamMember:DatasetIamMember")
          .filter((r) => r.inputs.member === member)
          .map((r) => r.inputs),
      ).toEqual([{ project: want.project, datasetId, role: "roles/bigquery.dataEditor", member }]);
      expect(
        b
          .ofType("gcp:projects/iAMMember:IAMMember")
          .filter((r) => r.inputs.member === member)
          .map((r) => r.inputs.role),
      ).toEqual(["roles/bigquery.jobUser"]);
    }
  });

  it("confines bucket roles to prefixes: serving appends prediction logs, drift reads them, tracking manages mlflow/", () => {
    const b = built[stackName];
    const bucket = b.one("gcp:storage/bucket:Bucket", "-artifacts-bucket").outputs.name;
    const grantsOf = (workload: string) =>
      b
        .ofType("gcp:storage/bucketIAMMember:BucketIAMMember")
        .filter((r) => r.inputs.member === accountOf(workload).outputs.member)
        .map((r) => [r.inputs.bucket, r.inputs.role, (r.inputs.condition as Inputs).expression]);
    const only = (prefix: string) =>
      `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${prefix}") || api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${prefix}")`;
    expect(grantsOf("serving")).toEqual([
      [bucket, "roles/storage.objectCreator", only("predictions/")],
      [bucket, "roles/storage.objectViewer", only("mlflow/")],
    ]);
    expect(grantsOf("drift")).toEqual([
      [bucket, "roles/storage.objectViewer", only("predictions/")],
      [bucket, "roles/storage.objectViewer", only("mlflow/")],
    ]);
    expect(grantsOf("tracking")).toEqual([[bucket, "roles/storage.objectAdmin", only("mlflow/")]]);
    // BigQuery's EXPORT DATA writes (and overwrites) sharded exports as the features account; its writers read them back.
    expect(grantsOf("features")).toEqual([[bucket, "roles/storage.objectUser", only("materialization/")]]);
    expect(grantsOf("training")).toEqual([]);
  });

  it("creates no service account keys, HMAC keys, basic roles or public members", () => {
    const types = new Set(built[stackName].resources.map((r) => r.type));
    expect(types.has("gcp:serviceaccount/key:Key")).toBe(false);
    expect(types.has("gcp:storage/hmacKey:HmacKey")).toBe(false);
    const roles = built[stackName].resources.filter((r) => /IAMMember|IamMember/.test(r.type)).map((r) => r.inputs.role as string);
    expect(roles.filter((r) => ["roles/owner", "roles/editor", "roles/viewer"].includes(r))).toEqual([]);
    expect(JSON.stringify(built[stackName].resources.map((r) => r.inputs))).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });

  it("labels every labelable resource with team, environment and cost centre", () => {
    const seen = new Set<string>();
    for (const r of custom()) {
      const path = LABEL_PATHS[r.type];
      if (!path) {
        expect(NOT_LABELABLE, `${r.type} (${r.name}) is neither labelled nor known to be unlabelable`).toContain(r.type);
        continue;
      }
      seen.add(r.type);
      expect(at(r.inputs, path), `${r.type} ${r.name}`).toMatchObject(want.labels);
    }
    expect([...seen].sort()).toEqual(Object.keys(LABEL_PATHS).sort());
  });

  it(`${want.prod ? "protects and retains" : "neither protects nor retains"} every stateful resource, and only those`, () => {
    const stateful = custom().filter((r) => STATEFUL.includes(r.type));
    // Redis, Cloud SQL, its database, the dataset, 5 tables (one per offline feature view of
    // catalog/features), the artifact and access-log buckets, and two key rings and keys (GKE secrets, BigQuery CMEK).
    expect(stateful.length).toBe(1 + 1 + 1 + 1 + 5 + 2 + 2 + 2);
    for (const r of stateful) {
      expect(r.options.protect, `${r.type} ${r.name}`).toBe(want.prod);
      expect(r.options.retainOnDelete, `${r.type} ${r.name}`).toBe(want.prod);
    }
    for (const r of custom().filter((r) => !STATEFUL.includes(r.type))) expect(r.options.protect, `${r.type} ${r.name}`).toBe(false);
  });

  it("enables the APIs it needs, never disables them, and creates nothing in the project before they are on", () => {
    const services = built[stackName].ofType("gcp:projects/service:Service");
    expect(services.map((r) => r.inputs.service).sort()).toEqual([...REQUIRED_APIS].sort());
    for (const s of services)
      expect(s.inputs).toMatchObject({ project: want.project, disableOnDestroy: false, disableDependentServices: false });
    const serviceUrns = services.map((s) => s.urn).sort();
    for (const r of custom().filter(
      (r) => r.type.startsWith("gcp:") && !NO_PROJECT_INPUT.includes(r.type) && r.type !== "gcp:projects/service:Service",
    )) {
      expect(
        serviceUrns.every((urn) => r.options.dependsOn?.includes(urn)),
        `${r.type} ${r.name} does not wait for the APIs`,
      ).toBe(true);
    }
  });

  it("passes the stack's project explicitly to every resource that takes one", () => {
    for (const r of custom().filter((r) => r.type.startsWith("gcp:") && !NO_PROJECT_INPUT.includes(r.type))) {
      expect(r.inputs.project, `${r.type} ${r.name}`).toBe(want.project);
    }
  });

  it("parents every resource under the foundation component", () => {
    const root = built[stackName].resources.find((r) => r.type === "mlops:gcp:Foundation");
    expect(root).toBeDefined();
    const byUrn = new Map(everything.map((r) => [r.urn, r]));
    for (const r of built[stackName].resources) {
      if (r === root) continue;
      let cursor: PlanResource | undefined = r;
      while (cursor && cursor !== root) cursor = cursor.parent ? byUrn.get(cursor.parent) : undefined;
      expect(cursor, `${r.type} ${r.name} is not under the foundation`).toBe(root);
    }
  });
});
