import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { evaluatePolicies } from "../../policies/harness";
import type { PlatformPolicy } from "../../policies/support";
import { edit } from "./fixtures/cases";
import { platform, policy } from "./fixtures/resource";
import { validPlan } from "./fixtures/stacks";

/**
 * The harness against the engine's own analyzer: the RPC handlers @pulumi/policy serves to the
 * Pulumi CLI (server.js), called in-process with the protobuf requests the CLI would send. Both
 * must report the same violations for the same resources. Policies here read no config, because
 * the server keeps its config in module state that only the CLI's `configure` call sets.
 */

const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [require.resolve("@pulumi/pulumi/proto/analyzer_pb")] }),
);
const server = require("@pulumi/policy/server") as {
  makeAnalyzeRpcFun(
    name: string,
    version: string,
    level: string,
    policies: PlatformPolicy[],
  ): (call: unknown, cb: (err: unknown, resp: Pb) => void) => Promise<void>;
  makeAnalyzeStackRpcFun(
    name: string,
    version: string,
    level: string,
    policies: PlatformPolicy[],
  ): (call: unknown, cb: (err: unknown, resp: Pb) => void) => Promise<void>;
};

const json = (value: unknown) => JSON.parse(JSON.stringify(value));

/** A protobuf message of the analyzer protocol (generated JavaScript without types). */
// biome-ignore lint/suspicious/noExplicitAny: google-protobuf generated classes ship no types
type Pb = any;

function resourceOptions(r: PlanResource) {
  const opts = new analyzerPb.AnalyzerResourceOptions();
  opts.setProtect(r.options.protect);
  if (r.parent) opts.setParent(r.parent);
  return opts;
}

interface Diagnostic {
  policy: string;
  urn: string;
  message: string;
  level: number;
}

function diagnosticsOf(resp: Pb): Diagnostic[] {
  return resp
    .getDiagnosticsList()
    .map((d: Pb) => ({ policy: d.getPolicyname(), urn: d.getUrn(), message: d.getMessage(), level: d.getEnforcementlevel() }));
}

function call<T>(fn: (call: unknown, cb: (err: unknown, resp: Pb) => void) => Promise<void>, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => fn({ request }, (err, resp) => (err ? reject(err) : resolve(diagnosticsOf(resp) as T))));
}

async function engine(resources: PlanResource[], policies: PlatformPolicy[]): Promise<Diagnostic[]> {
  const analyze = server.makeAnalyzeRpcFun("mlops-platform", "0.1.0", "mandatory", policies);
  const analyzeStack = server.makeAnalyzeStackRpcFun("mlops-platform", "0.1.0", "mandatory", policies);
  const out: Diagnostic[] = [];
  for (const r of resources) {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(r.type);
    req.setName(r.name);
    req.setUrn(r.urn);
    req.setProperties(Struct.fromJavaScript(json(r.inputs)));
    req.setOptions(resourceOptions(r));
    out.push(...(await call<Diagnostic[]>(analyze, req)).map((d) => ({ ...d, urn: r.urn })));
  }
  const stackReq = new analyzerPb.AnalyzeStackRequest();
  stackReq.setResourcesList(
    resources.map((r) => {
      const a = new analyzerPb.AnalyzerResource();
      a.setType(r.type);
      a.setName(r.name);
      a.setUrn(r.urn);
      a.setProperties(Struct.fromJavaScript(json(r.outputs)));
      a.setOptions(resourceOptions(r));
      if (r.parent) a.setParent(r.parent);
      a.setDependenciesList(r.options.dependsOn ?? []);
      return a;
    }),
  );
  out.push(...(await call<Diagnostic[]>(analyzeStack, stackReq)));
  return out;
}

const CONFIG_FREE = [
  "elasticache-encrypted-with-auth",
  "s3-bucket-public-access-blocked",
  "s3-bucket-encrypted",
  "kubernetes-nodes-private",
  "containers-image-pinned",
  "containers-have-resources",
  "gpu-pool-tainted",
  "virtualservice-weights-sum-to-100",
  "virtualservice-subsets-exist",
];

describe("the harness and the engine's analyzer", () => {
  it("report the same violations for the same plan", async () => {
    const plan = validPlan("aws-dev");
    edit(plan, "redis", (r) => {
      r.transitEncryptionEnabled = false;
      delete r.authToken;
    });
    delete plan.block;
    edit(plan, "pool-gpu-l4", (r) => {
      r.taints = [];
      r.subnetIds = ["subnet-public-a"];
    });
    edit(plan, "features", (r) => {
      r.spec.template.spec.containers[0].image = "ghcr.io/x/y:latest";
      delete r.spec.template.spec.containers[0].resources.limits;
    });
    edit(plan, "fraud-scorer-vs", (r) => {
      r.spec.http.at(-1).route[0].weight = 80;
    });
    edit(plan, "fraud-scorer-dr", (r) => {
      r.spec.subsets.pop();
    });
    const resources = Object.values(plan);
    const policies = CONFIG_FREE.map(policy);

    const fromEngine = await engine(resources, policies);
    const { stack, catalog } = platform("aws-dev");
    const fromHarness = evaluatePolicies(resources, { stack, catalog, policies }).violations;

    const key = (policyName: string, urn: string, message: string) => `${policyName} | ${urn} | ${message}`;
    // The engine shows "<policy description>\n<message>"; the harness keeps the description out of the message.
    const engineKeys = fromEngine.map((d) => key(d.policy, d.urn, d.message.slice(d.message.indexOf("\n") + 1))).sort();
    const harnessKeys = fromHarness.map((v) => key(v.policy, v.urn, v.fix ? `${v.message} Fix: ${v.fix}` : v.message)).sort();
    expect(engineKeys.length).toBeGreaterThanOrEqual(8);
    expect(harnessKeys).toEqual(engineKeys);
    // Every engine diagnostic is mandatory (the policies' own level; no config), as in the harness.
    expect(new Set(fromEngine.map((d) => d.level))).toEqual(new Set([analyzerPb.EnforcementLevel.MANDATORY]));
  });
});
