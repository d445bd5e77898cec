import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { changed, type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The two mesh policies (policies/security-mesh.ts) over local's real plan, broken one way at a
 * time, each case asserting the whole list of violations (message and fix): which PeerAuthentication
 * counts as mesh-wide, which modes are weak, which AuthorizationPolicy shapes deny everything in a
 * namespace, and which Namespaces count as injected. local's mesh: PeerAuthentication
 * istio-system/default (STRICT), and an allow-nothing "deny-all" in each of mlops and models.
 */

const PEER = "kubernetes:security.istio.io/v1:PeerAuthentication";
const AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

const resources = realPlan("local");

/** A change that sets one nested field of a resource's inputs. */
const setting = (path: string[], value: unknown) => (r: Props) => {
  const parent = path.slice(0, -1).reduce((o, key) => o[key], r);
  parent[path[path.length - 1] as string] = value;
};

function run(name: string, all: PlanResource[]): Found {
  return violationsOf(all, "local", name);
}

/** The plan with the first resource of `type` named `name` (metadata.name, and namespace if given) changed. */
function broken(type: string, name: string, change: (r: Props) => void, namespace?: string): PlanResource[] {
  const match = (r: PlanResource) => {
    const m = (r.inputs as Props).metadata;
    return m?.name === name && (namespace === undefined || m?.namespace === namespace);
  };
  return withBreakage(resources, { type, match, change });
}

/** A workload-level PeerAuthentication in models, as a model team would add it. */
function workloadPeer(mtls: Props, portLevelMtls: Props): PlanResource {
  return resource(PEER, "models-fraud-scorer-peer", {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "fraud-scorer", namespace: "models" },
    spec: { selector: { matchLabels: { "app.kubernetes.io/name": "fraud-scorer" } }, mtls, portLevelMtls },
  });
}

const NO_MESH_WIDE = {
  message: "the stack: has no mesh-wide STRICT PeerAuthentication in namespace istio-system.",
  fix: 'create a security.istio.io/v1 PeerAuthentication "default" in istio-system with spec: { mtls: { mode: "STRICT" } }',
};
const WEAK_FIX = 'use mode "STRICT" (or UNSET to inherit the mesh-wide STRICT)';

describe("istio-strict-mtls on local's real mesh", () => {
  const mtls = (all: PlanResource[]) => run("istio-strict-mtls", all);

  it("passes the real output", () => {
    expect(mtls(resources)).toEqual([]);
  });

  it("the STRICT policy in models instead of istio-system is not mesh-wide", () => {
    expect(mtls(broken(PEER, "default", setting(["metadata", "namespace"], "models")))).toEqual([NO_MESH_WIDE]);
  });

  it("the STRICT policy in istio-system with a workload selector is not mesh-wide", () => {
    const found = mtls(
      broken(PEER, "default", (r) => {
        r.spec.selector = { matchLabels: { app: "istiod" } };
      }),
    );
    expect(found).toEqual([NO_MESH_WIDE]);
  });

  // Istio reads a selector without labels as no selector (pilot's authentication policies check
  // len(selector.matchLabels) == 0): these policies stay mesh-wide.
  it("the STRICT policy in istio-system with an empty selector is still mesh-wide", () => {
    expect(mtls(broken(PEER, "default", setting(["spec", "selector"], {})))).toEqual([]);
  });

  it("the STRICT policy in istio-system with empty matchLabels is still mesh-wide", () => {
    expect(mtls(broken(PEER, "default", setting(["spec", "selector"], { matchLabels: {} })))).toEqual([]);
  });

  it("a mesh-wide policy with mode UNSET is not STRICT, and not weak either", () => {
    expect(mtls(broken(PEER, "default", setting(["spec", "mtls", "mode"], "UNSET")))).toEqual([NO_MESH_WIDE]);
  });

  it("a mesh-wide PERMISSIVE policy: no STRICT one, and it relaxes mTLS", () => {
    expect(mtls(broken(PEER, "default", setting(["spec", "mtls", "mode"], "PERMISSIVE")))).toEqual([
      NO_MESH_WIDE,
      { message: 'PeerAuthentication "istio-system/default": sets mTLS PERMISSIVE.', fix: WEAK_FIX },
    ]);
  });

  it("only PeerAuthentications count: the same object registered as a RequestAuthentication is not one", () => {
    const i = resources.findIndex((r) => r.type === PEER);
    const wrongKind = changed(resources[i] as PlanResource, setting(["kind"], "RequestAuthentication"));
    const copy = [...resources];
    copy[i] = { ...wrongKind, type: "kubernetes:security.istio.io/v1:RequestAuthentication" };
    expect(mtls(copy)).toEqual([NO_MESH_WIDE]);
  });

  it("a workload policy that is STRICT but DISABLEs one port", () => {
    expect(mtls([...resources, workloadPeer({ mode: "STRICT" }, { "8080": { mode: "DISABLE" } })])).toEqual([
      { message: 'PeerAuthentication "models/fraud-scorer": sets mTLS DISABLE.', fix: WEAK_FIX },
    ]);
  });

  it("a workload policy that is PERMISSIVE and DISABLEs one port names both modes, in order", () => {
    expect(mtls([...resources, workloadPeer({ mode: "PERMISSIVE" }, { "9090": { mode: "DISABLE" } })])).toEqual([
      { message: 'PeerAuthentication "models/fraud-scorer": sets mTLS PERMISSIVE, DISABLE.', fix: WEAK_FIX },
    ]);
  });

  it("a workload policy that is STRICT with a STRICT port passes", () => {
    expect(mtls([...resources, workloadPeer({ mode: "STRICT" }, { "8080": { mode: "STRICT" } })])).toEqual([]);
  });
});

const noDefaultDeny = (namespace: string) => ({
  message: `namespace ${namespace}: has no default-deny AuthorizationPolicy, so every workload in the mesh may call its services.`,
  fix: `create a security.istio.io/v1 AuthorizationPolicy "allow-nothing" with spec: {} in ${namespace} (or one in istio-system for the whole mesh), then ALLOW policies per caller`,
});

describe("istio-default-deny on local's real mesh", () => {
  const deny = (all: PlanResource[]) => run("istio-default-deny", all);
  /** models' deny-all with `spec` instead of {}. */
  const modelsDenyAll = (spec: Props) => broken(AUTHZ, "deny-all", setting(["spec"], spec), "models");

  it("passes the real output", () => {
    expect(deny(resources)).toEqual([]);
  });

  it("models' allow-nothing with a workload selector covers only those workloads", () => {
    expect(deny(modelsDenyAll({ selector: { matchLabels: { "app.kubernetes.io/name": "fraud-scorer" } } }))).toEqual([
      noDefaultDeny("models"),
    ]);
  });

  it("models' allow-nothing attached to a Gateway by targetRef is not namespace-wide", () => {
    expect(deny(modelsDenyAll({ targetRef: { group: "gateway.networking.k8s.io", kind: "Gateway", name: "models" } }))).toEqual([
      noDefaultDeny("models"),
    ]);
  });

  it("models' allow-nothing attached to a Service by targetRefs is not namespace-wide", () => {
    expect(deny(modelsDenyAll({ targetRefs: [{ group: "", kind: "Service", name: "fraud-scorer" }] }))).toEqual([noDefaultDeny("models")]);
  });

  it("models' allow-nothing with an empty selector, empty matchLabels or no targetRefs is still namespace-wide", () => {
    expect(deny(modelsDenyAll({ selector: {} }))).toEqual([]);
    expect(deny(modelsDenyAll({ selector: { matchLabels: {} } }))).toEqual([]);
    expect(deny(modelsDenyAll({ targetRefs: [] }))).toEqual([]);
  });

  it("an ALLOW policy with a rule is not allow-nothing", () => {
    expect(deny(modelsDenyAll({ action: "ALLOW", rules: [{ from: [{ source: { namespaces: ["models"] } }] }] }))).toEqual([
      noDefaultDeny("models"),
    ]);
  });

  it("a DENY policy with an empty rule denies everything: it counts", () => {
    expect(deny(modelsDenyAll({ action: "DENY", rules: [{}] }))).toEqual([]);
  });

  it("a DENY policy with an empty rule among others still denies everything", () => {
    expect(deny(modelsDenyAll({ action: "DENY", rules: [{ from: [{ source: { notNamespaces: ["models"] } }] }, {}] }))).toEqual([]);
  });

  it("a DENY policy whose only rule names callers denies only those", () => {
    expect(deny(modelsDenyAll({ action: "DENY", rules: [{ from: [{ source: { notNamespaces: ["models"] } }] }] }))).toEqual([
      noDefaultDeny("models"),
    ]);
  });

  it("a DENY policy without rules matches nothing, so denies nothing", () => {
    expect(deny(modelsDenyAll({ action: "DENY" }))).toEqual([noDefaultDeny("models")]);
  });

  it("an AUDIT policy with an empty rule audits everything and denies nothing", () => {
    expect(deny(modelsDenyAll({ action: "AUDIT", rules: [{}] }))).toEqual([noDefaultDeny("models")]);
  });

  it("a Namespace labelled istio-injection=enabled needs its own default-deny", () => {
    const found = deny(broken(NAMESPACE, "monitoring", setting(["metadata", "labels", "istio-injection"], "enabled")));
    expect(found).toEqual([noDefaultDeny("monitoring")]);
  });

  it("a Namespace labelled for an Istio revision needs its own default-deny", () => {
    const found = deny(broken(NAMESPACE, "gpu-system", setting(["metadata", "labels", "istio.io/rev"], "default")));
    expect(found).toEqual([noDefaultDeny("gpu-system")]);
  });

  it("a Namespace labelled istio-injection=disabled needs none", () => {
    const found = deny(broken(NAMESPACE, "monitoring", setting(["metadata", "labels", "istio-injection"], "disabled")));
    expect(found).toEqual([]);
  });

  // Istio's revision webhook selects `istio.io/rev in (rev), istio-injection DoesNotExist`: the
  // istio-injection label wins, so such a Namespace gets no sidecars.
  it("a Namespace labelled for a revision but istio-injection=disabled needs none", () => {
    const found = deny(
      broken(NAMESPACE, "monitoring", (r) => {
        r.metadata.labels = { ...r.metadata.labels, "istio.io/rev": "default", "istio-injection": "disabled" };
      }),
    );
    expect(found).toEqual([]);
  });

  it("only Namespaces count: a Deployment labelled for an Istio revision is no namespace", () => {
    const found = deny(
      broken(DEPLOYMENT, "fraud-scorer-v1", (r) => {
        r.metadata.labels = { ...r.metadata.labels, "istio.io/rev": "default", "istio-injection": "enabled" };
      }),
    );
    expect(found).toEqual([]);
  });
});
