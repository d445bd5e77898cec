import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { qualifyHost } from "../../policies/catalog";
import { evaluatePolicies } from "../../policies/harness";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, platform, policy, violationsOf } from "./fixtures/resource";

/**
 * The catalog policies (policies/catalog.ts) over local's real plan, broken one way at a time, each
 * case asserting the whole list of violations (message and fix). local's models in namespace models:
 * fraud-scorer (v1=90, v2=10) and churn-predictor (v3=100, v4 shadowed at 25%), each with a
 * DestinationRule of one subset per version and a VirtualService whose header routes come first,
 * then the split routes: "grpc-weighted" (match port 8081 only) and "weighted" (no match).
 */

const VS = "kubernetes:networking.istio.io/v1:VirtualService";
const DR = "kubernetes:networking.istio.io/v1:DestinationRule";
const FRAUD_HOST = "fraud-scorer.models.svc.cluster.local";
const CHURN_HOST = "churn-predictor.models.svc.cluster.local";

const resources = realPlan("local");

/** The plan with the resource of `type` named `name` (metadata.name) changed, or removed. */
const broken = (type: string, name: string, change?: (r: Props) => void) =>
  withBreakage(resources, { type, match: (r) => (r.inputs as Props).metadata?.name === name, change });
/** The named HTTP route of a VirtualService's inputs. */
const route = (r: Props, name: string) => r.spec.http.find((h: Props) => h.name === name);

describe("qualifyHost resolves a host as Istio does", () => {
  it("a name without a dot is a Service of the object's namespace", () => {
    expect(qualifyHost("fraud-scorer", "models")).toBe(FRAUD_HOST);
  });

  it("a name with a dot is taken as written (Istio expands only dotless short names)", () => {
    expect(qualifyHost("fraud-scorer.models", "mlops")).toBe("fraud-scorer.models");
    expect(qualifyHost(FRAUD_HOST, "mlops")).toBe(FRAUD_HOST);
    expect(qualifyHost("api.example.com", "models")).toBe("api.example.com");
  });

  it("wildcards are taken as written", () => {
    expect(qualifyHost("*", "models")).toBe("*");
    expect(qualifyHost("*.models.svc.cluster.local", "mlops")).toBe("*.models.svc.cluster.local");
  });
});

const WEIGHTS_FIX = "make the weights sum to 100 (versions[].weight in the model's catalog file)";
const sumsTo = (vs: string, what: string) => ({ message: `VirtualService "models/${vs}": ${what}.`, fix: WEIGHTS_FIX });

describe("virtualservice-weights-sum-to-100 on local's real VirtualServices", () => {
  const weights = (all: PlanResource[]) => violationsOf(all, "local", "virtualservice-weights-sum-to-100");
  const fraud = (change: (r: Props) => void) => broken(VS, "fraud-scorer", change);
  const churn = (change: (r: Props) => void) => broken(VS, "churn-predictor", change);

  it("passes the real output", () => {
    expect(weights(resources)).toEqual([]);
  });

  it("the split losing 10 points names each destination's weight", () => {
    expect(weights(fraud((r) => (route(r, "weighted").route[0].weight = 80)))).toEqual([
      sumsTo("fraud-scorer", "route weighted weights sum to 90 (v1=80, v2=10)"),
    ]);
  });

  it("a destination without a weight among two counts as 0", () => {
    expect(weights(fraud((r) => delete route(r, "weighted").route[1].weight))).toEqual([
      sumsTo("fraud-scorer", "route weighted weights sum to 90 (v1=90, v2=0)"),
    ]);
  });

  it("a destination without a subset is named by its host", () => {
    const change = (r: Props) => {
      const split = route(r, "grpc-weighted");
      delete split.route[1].destination.subset;
      split.route[1].weight = 20;
    };
    expect(weights(fraud(change))).toEqual([sumsTo("fraud-scorer", `route grpc-weighted weights sum to 110 (v1=90, ${FRAUD_HOST}=20)`)]);
  });

  it("a route without a name is named by its index", () => {
    expect(
      weights(
        fraud((r) => {
          const split = route(r, "weighted");
          delete split.name;
          split.route[0].weight = 100;
        }),
      ),
    ).toEqual([sumsTo("fraud-scorer", "route #5 weights sum to 110 (v1=100, v2=10)")]);
  });

  it("a single destination may omit its weight (it gets 100)", () => {
    expect(weights(churn((r) => delete route(r, "weighted").route[0].weight))).toEqual([]);
  });

  it("a single destination that states a weight must state 100", () => {
    expect(weights(churn((r) => (route(r, "weighted").route[0].weight = 50)))).toEqual([
      sumsTo("churn-predictor", "route weighted weights sum to 50 (v3=50)"),
    ]);
  });

  it("three destinations that sum to 100 pass", () => {
    const change = (r: Props) => {
      const split = route(r, "weighted");
      split.route = [
        { destination: { host: FRAUD_HOST, subset: "v1" }, weight: 50 },
        { destination: { host: FRAUD_HOST, subset: "v2" }, weight: 30 },
        { destination: { host: FRAUD_HOST, subset: "v1" }, weight: 20 },
      ];
    };
    expect(weights(fraud(change))).toEqual([]);
  });

  it("a route with an empty destination list sends nowhere", () => {
    expect(weights(churn((r) => (route(r, "weighted").route = [])))).toEqual([
      {
        message: 'VirtualService "models/churn-predictor": route weighted has no destinations.',
        fix: "route to at least one version (a version with weight > 0 in the model's catalog file)",
      },
    ]);
  });

  it("a route that redirects or answers directly needs no destinations", () => {
    const answers = (r: Props) => {
      r.spec.http.unshift(
        { name: "old-path", match: [{ uri: { prefix: "/v0" } }], redirect: { uri: "/v1" } },
        { name: "gone", match: [{ uri: { prefix: "/legacy" } }], directResponse: { status: 410 } },
      );
    };
    expect(weights(churn(answers))).toEqual([]);
  });
});

const SUBSET_FIX = (subset: string, host: string) =>
  `add subset "${subset}" to the DestinationRule of ${host} (one subset per version in the model's catalog file)`;
const missing = (vs: string, label: string, how: string, subset: string, host: string, have: string) => ({
  message: `VirtualService "models/${vs}": route ${label} ${how} to subset "${subset}" of ${host}, but ${have}.`,
  fix: SUBSET_FIX(subset, host),
});

describe("virtualservice-subsets-exist on local's real VirtualServices and DestinationRules", () => {
  const subsets = (all: PlanResource[]) => violationsOf(all, "local", "virtualservice-subsets-exist");

  it("passes the real output", () => {
    expect(subsets(resources)).toEqual([]);
  });

  it("the fraud DestinationRule without the canary subset: every route to v2 is named, in order", () => {
    const found = subsets(broken(DR, "fraud-scorer", (r) => (r.spec.subsets = r.spec.subsets.filter((s: Props) => s.name !== "v2"))));
    const have = "its DestinationRule defines v1";
    expect(found).toEqual(
      ["grpc-x-model-version-v2", "grpc-weighted", "x-model-version-v2", "weighted"].map((label) =>
        missing("fraud-scorer", label, "routes", "v2", FRAUD_HOST, have),
      ),
    );
  });

  it("the churn DestinationRule without the shadow subset: the header routes and the mirrors are named", () => {
    const found = subsets(broken(DR, "churn-predictor", (r) => (r.spec.subsets = r.spec.subsets.filter((s: Props) => s.name !== "v4"))));
    const have = "its DestinationRule defines v3";
    expect(found).toEqual([
      missing("churn-predictor", "grpc-x-model-version-v4", "routes", "v4", CHURN_HOST, have),
      missing("churn-predictor", "grpc-weighted", "mirrors", "v4", CHURN_HOST, have),
      missing("churn-predictor", "x-model-version-v4", "routes", "v4", CHURN_HOST, have),
      missing("churn-predictor", "weighted", "mirrors", "v4", CHURN_HOST, have),
    ]);
  });

  it("a DestinationRule without subsets says so, naming both", () => {
    const found = subsets(broken(DR, "churn-predictor", (r) => delete r.spec.subsets));
    const have = "its DestinationRule defines no subsets";
    expect(found.map((v) => v.message)).toEqual([
      missing("churn-predictor", "grpc-x-model-version-v3", "routes", "v3", CHURN_HOST, have).message,
      missing("churn-predictor", "grpc-x-model-version-v4", "routes", "v4", CHURN_HOST, have).message,
      missing("churn-predictor", "grpc-weighted", "routes", "v3", CHURN_HOST, have).message,
      missing("churn-predictor", "grpc-weighted", "mirrors", "v4", CHURN_HOST, have).message,
      missing("churn-predictor", "x-model-version-v3", "routes", "v3", CHURN_HOST, have).message,
      missing("churn-predictor", "x-model-version-v4", "routes", "v4", CHURN_HOST, have).message,
      missing("churn-predictor", "weighted", "routes", "v3", CHURN_HOST, have).message,
      missing("churn-predictor", "weighted", "mirrors", "v4", CHURN_HOST, have).message,
    ]);
  });

  it("a DestinationRule with a third subset lists every subset it has", () => {
    const change = (r: Props) => {
      r.spec.subsets = [
        { name: "v1", labels: { version: "v1" } },
        { name: "v3", labels: { version: "v3" } },
      ];
    };
    expect(subsets(broken(DR, "fraud-scorer", change)).map((v) => v.message)[0]).toBe(
      missing("fraud-scorer", "grpc-x-model-version-v2", "routes", "v2", FRAUD_HOST, "its DestinationRule defines v1, v3").message,
    );
  });

  it("without the fraud DestinationRule no subset of its host exists", () => {
    const found = subsets(broken(DR, "fraud-scorer"));
    const have = `no DestinationRule exists for ${FRAUD_HOST}`;
    expect(found[0]).toEqual(missing("fraud-scorer", "grpc-x-model-version-v1", "routes", "v1", FRAUD_HOST, have));
    expect(found).toHaveLength(8);
  });

  it("a DestinationRule naming its host short is resolved in its own namespace", () => {
    expect(subsets(broken(DR, "fraud-scorer", (r) => (r.spec.host = "fraud-scorer")))).toEqual([]);
  });

  it("a DestinationRule in another namespace naming the host short is another host", () => {
    const found = subsets(
      broken(DR, "fraud-scorer", (r) => {
        r.metadata.namespace = "mlops";
        r.spec.host = "fraud-scorer";
      }),
    );
    expect(found[0]).toEqual(
      missing("fraud-scorer", "grpc-x-model-version-v1", "routes", "v1", FRAUD_HOST, `no DestinationRule exists for ${FRAUD_HOST}`),
    );
  });

  it("a route naming its host short is resolved in the VirtualService's namespace", () => {
    expect(subsets(broken(VS, "fraud-scorer", (r) => (route(r, "weighted").route[1].destination.host = "fraud-scorer")))).toEqual([]);
  });

  it("a route naming its host service.namespace is not the Service's FQDN to Istio", () => {
    const found = subsets(broken(VS, "fraud-scorer", (r) => (route(r, "weighted").route[1].destination.host = "fraud-scorer.models")));
    expect(found).toEqual([
      missing("fraud-scorer", "weighted", "routes", "v2", "fraud-scorer.models", "no DestinationRule exists for fraud-scorer.models"),
    ]);
  });

  it("a destination without a subset needs no DestinationRule", () => {
    const change = (r: Props) => {
      route(r, "weighted").route.push({ destination: { host: "fallback.mlops.svc.cluster.local" }, weight: 0 });
    };
    expect(subsets(broken(VS, "fraud-scorer", change))).toEqual([]);
  });
});

const CATALOG_FIX = "change weights in the catalog file, not in the VirtualService";
const FRAUD_FILE = "catalog/models/fraud/fraud-scorer.yaml";
const CHURN_FILE = "catalog/models/support/churn-predictor.yaml";
const sends = (vs: string, what: string) => ({ message: `VirtualService "models/${vs}": sends ${what}.`, fix: CATALOG_FIX });

describe("virtualservice-matches-catalog on local's real VirtualServices", () => {
  const matches = (all: PlanResource[]) => violationsOf(all, "local", "virtualservice-matches-catalog");
  const fraud = (change: (r: Props) => void) => broken(VS, "fraud-scorer", change);
  const churn = (change: (r: Props) => void) => broken(VS, "churn-predictor", change);
  const noVirtualService = {
    message: `model "churn-predictor" (${CHURN_FILE}): has no VirtualService for ${CHURN_HOST} in namespace models.`,
    fix: "deploy it through ModelServing, which renders the routes from the catalog",
  };

  it("passes the real output", () => {
    expect(matches(resources)).toEqual([]);
  });

  it("the HTTP split edited outside the catalog", () => {
    const change = (r: Props) => {
      route(r, "weighted").route[0].weight = 50;
      route(r, "weighted").route[1].weight = 50;
    };
    expect(matches(fraud(change))).toEqual([sends("fraud-scorer", `v1=50, v2=50, but ${FRAUD_FILE} declares v1=90, v2=10`)]);
  });

  it("the gRPC split edited outside the catalog names its port", () => {
    const change = (r: Props) => {
      route(r, "grpc-weighted").route[0].weight = 0;
      route(r, "grpc-weighted").route[1].weight = 100;
    };
    expect(matches(fraud(change))).toEqual([sends("fraud-scorer", `v1=0, v2=100 on port 8081, but ${FRAUD_FILE} declares v1=90, v2=10`)]);
  });

  it("a header route edited outside the catalog is no split", () => {
    expect(matches(fraud((r) => (route(r, "x-model-version-v2").route[0].destination.subset = "v1")))).toEqual([]);
  });

  it("a split destination without a weight among two sends nothing", () => {
    expect(matches(fraud((r) => delete route(r, "weighted").route[1].weight))).toEqual([
      sends("fraud-scorer", `v1=90, v2=0, but ${FRAUD_FILE} declares v1=90, v2=10`),
    ]);
  });

  it("a single split destination without a weight sends everything", () => {
    expect(matches(churn((r) => delete route(r, "weighted").route[0].weight))).toEqual([]);
  });

  it("one subset listed twice sends the sum of its weights", () => {
    const change = (r: Props) => {
      const [v1, v2] = route(r, "weighted").route;
      route(r, "weighted").route = [
        { ...v1, weight: 45 },
        { ...v1, weight: 45 },
        { ...v2, weight: 10 },
      ];
    };
    expect(matches(fraud(change))).toEqual([]);
  });

  it("without split routes the VirtualService sends none of the catalog's weights", () => {
    expect(matches(churn((r) => (r.spec.http = r.spec.http.filter((h: Props) => !h.name.endsWith("weighted")))))).toEqual([
      sends("churn-predictor", `none, but ${CHURN_FILE} declares v3=100`),
    ]);
  });

  it("a model without its VirtualService", () => {
    expect(matches(broken(VS, "churn-predictor"))).toEqual([noVirtualService]);
  });

  it("a VirtualService outside the serving namespace does not count", () => {
    expect(matches(churn((r) => (r.metadata.namespace = "mlops")))).toEqual([noVirtualService]);
  });

  it("a VirtualService for other hosts does not count", () => {
    expect(matches(churn((r) => (r.spec.hosts = ["churn-predictor.mlops.svc.cluster.local"])))).toEqual([noVirtualService]);
  });

  it("a VirtualService is found by any of its hosts, short or external", () => {
    expect(matches(churn((r) => (r.spec.hosts = ["churn.example.com", "churn-predictor"])))).toEqual([]);
  });
});

describe("catalog-consistent on local's catalog", () => {
  const consistent = (change: (catalog: ReturnType<typeof platform>["catalog"]) => void) => {
    const { stack, catalog } = platform("local");
    const copy = structuredClone(catalog);
    change(copy);
    return evaluatePolicies(resources, { stack, catalog: copy, policies: [policy("catalog-consistent")] }).violations.map((v) => ({
      message: v.message,
      fix: v.fix,
    }));
  };

  it("passes the real catalog", () => {
    expect(consistent(() => {})).toEqual([]);
  });

  it("names the file, the field, the problem and the fix of each issue", () => {
    const found = consistent((c) => {
      const fraud = c.models["fraud-scorer"];
      if (fraud?.versions[0]) fraud.versions[0].weight = 80;
    });
    expect(found).toEqual([{ message: `${FRAUD_FILE}: versions: weights sum to 90 (v1=80, v2=10).`, fix: "weights must sum to 100" }]);
  });
});
