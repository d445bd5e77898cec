import { objectMeta } from "./kubernetes";
import { ofTypes, safeProp } from "./links";
import { asRecord, get, type PlatformPolicy, violation } from "./support";

/**
 * The node metadata server, where a pod that reaches it can take the node's cloud credentials.
 * GKE: node pools keep the legacy (v1beta1, header-less) endpoints off (trivy GCP-0048; the GKE
 * metadata server itself is `kubernetes-workload-identity`). EKS with Karpenter: EC2NodeClasses
 * require IMDSv2 tokens with a hop limit of 1, so a pod behind the node's network namespace cannot
 * get a token (Checkov CKV_AWS_79 reads the same on launch templates).
 */

export const nodeMetadataHardened: PlatformPolicy = {
  area: "security",
  name: "node-metadata-hardened",
  description:
    'GKE node pools set metadata disable-legacy-endpoints "true"; EC2 launch templates and Karpenter EC2NodeClasses require IMDSv2 (httpTokens required) with httpPutResponseHopLimit 1.',
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const pools = ofTypes(args.resources, ["gcp:container/nodePool:NodePool", "gcp:container/cluster:Cluster"]);
    const templates = ofTypes(args.resources, ["aws:ec2/launchTemplate:LaunchTemplate"]);
    // By prefix: the kind has a digit, which kubernetesKind()'s token pattern does not take.
    const classes = args.resources.filter((r) => /^kubernetes:karpenter\.k8s\.aws\/[^:]+:EC2NodeClass$/.test(r.type));
    if (pools.length + templates.length + classes.length === 0)
      args.notApplicable("no node pools, launch templates or EC2NodeClasses in the stack");
    for (const pool of pools) {
      const value = get(safeProp(pool, "nodeConfig"), "metadata", "disable-legacy-endpoints");
      // The cluster's own nodeConfig only shapes the default pool the platform removes: an explicit "false" is still wrong.
      const wrong = pool.type.endsWith("NodePool") ? value !== "true" : value === "false";
      if (wrong)
        report(
          violation(
            `GKE ${pool.type.endsWith("NodePool") ? "node pool" : "cluster"} "${pool.name}"`,
            `serves the legacy metadata endpoints (disable-legacy-endpoints is ${value === undefined ? "unset" : JSON.stringify(value)})`,
            'set nodeConfig.metadata: { "disable-legacy-endpoints": "true" }',
          ),
          pool.urn,
        );
    }
    const imds = (subject: string, options: unknown, urn: string) => {
      const o = asRecord(options);
      // No metadata endpoint, nothing to reach: tokens and hop limit do not matter.
      if (o.httpEndpoint === "disabled") return;
      const problems = [
        o.httpTokens !== "required" ? `httpTokens is ${JSON.stringify(o.httpTokens ?? "optional")}` : "",
        Number(o.httpPutResponseHopLimit ?? 2) > 1 ? `hop limit ${String(o.httpPutResponseHopLimit ?? "default")} lets pods reach it` : "",
      ].filter(Boolean);
      if (problems.length)
        report(
          violation(
            subject,
            `instance metadata: ${problems.join(", ")}`,
            'set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }',
          ),
          urn,
        );
    };
    for (const t of templates) imds(`launch template "${t.name}"`, safeProp(t, "metadataOptions"), t.urn);
    for (const c of classes)
      imds(`EC2NodeClass "${objectMeta(asRecord(c.props), c.name).name}"`, get(safeProp(c, "spec"), "metadataOptions"), c.urn);
  },
};

export const nodePolicies: PlatformPolicy[] = [nodeMetadataHardened];
