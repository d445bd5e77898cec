import { beforeAll, describe, expect, it } from "vitest";
import { ec2NodeClass, INTERRUPTION_EVENTS, KARPENTER, karpenterNodePool, karpenterPools } from "../../../components/aws";
import { validateCrd } from "../../../components/k8s/crd-schema";
import { AWS_STACKS, type AwsStackName, type BuiltFoundation, builtFoundations, type Inputs, loadAwsStack, parseJson } from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  built = await builtFoundations("aws-karpenter");
});

const dev = loadAwsStack("aws-dev").stack;
const prod = loadAwsStack("aws-prod").stack;
const pool = (stack: typeof dev, name: string) => {
  const p = stack.nodePools.find((x) => x.name === name);
  if (!p) throw new Error(`no pool ${name}`);
  return p;
};

describe("Karpenter NodePools from the spec (pure)", () => {
  it("one per GPU pool; the system pool stays a managed node group", () => {
    expect(karpenterPools(prod).map((p) => p.name)).toEqual(["gpu-l4", "gpu-a100"]);
  });

  it("a dev GPU pool: its instance type, spot, the GPU taint and labels, a GPU limit of maxSize x GPUs", () => {
    const np = karpenterNodePool(dev, pool(dev, "gpu-l4"));
    expect(np.spec.template.spec.requirements).toEqual([
      { key: "node.kubernetes.io/instance-type", operator: "In", values: ["g6.xlarge"] },
      { key: "karpenter.sh/capacity-type", operator: "In", values: ["spot"] },
      { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
      { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
    ]);
    expect(np.spec.template.spec.taints).toEqual([{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }]);
    // The pool's own labels (role, accelerator, GPU sharing) and NVIDIA's GPU-present label.
    expect(np.spec.template.metadata.labels).toMatchObject({
      ...pool(dev, "gpu-l4").labels,
      "mlops.platform/pool": "gpu",
      "mlops.platform/accelerator": "nvidia-l4",
      "nvidia.com/gpu.present": "true",
    });
    expect(np.spec.limits).toEqual({ "nvidia.com/gpu": "2" });
    expect(np.spec.template.spec.nodeClassRef).toEqual({ group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "gpu-l4" });
  });

  it("prod GPU pools are on-demand; the 8-GPU pool's limit counts its GPUs", () => {
    const np = karpenterNodePool(prod, pool(prod, "gpu-a100"));
    expect(np.spec.template.spec.requirements[1]).toEqual({ key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] });
    expect(np.spec.limits).toEqual({ "nvidia.com/gpu": "8" });
  });

  it("never takes a GPU node that serves or pulls an image: only empty nodes, after 30 minutes, one at a time, never for drift", () => {
    expect(karpenterNodePool(prod, pool(prod, "gpu-l4")).spec.disruption).toEqual({
      consolidationPolicy: "WhenEmpty",
      consolidateAfter: "30m",
      budgets: [
        { nodes: "0", reasons: ["Drifted"] },
        { nodes: "1", reasons: ["Empty", "Underutilized"] },
      ],
    });
    expect(karpenterNodePool(prod, pool(prod, "gpu-l4")).spec.template.spec.expireAfter).toBe("720h");
  });

  it("EC2NodeClass: encrypted gp3 disk of the pool's size, IMDSv2 with hop limit 1, subnets and security group by id", () => {
    const c = ec2NodeClass(dev, pool(dev, "gpu-l4"), {
      nodeRoleName: "nodes",
      subnetIds: ["subnet-1", "subnet-2"],
      securityGroupId: "sg-1",
      tags: {},
    });
    expect(c.spec.blockDeviceMappings).toEqual([
      { deviceName: "/dev/xvda", ebs: { volumeSize: "100Gi", volumeType: "gp3", encrypted: true, deleteOnTermination: true } },
    ]);
    expect(c.spec.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(c.spec.subnetSelectorTerms).toEqual([{ id: "subnet-1" }, { id: "subnet-2" }]);
    expect(c.spec.securityGroupSelectorTerms).toEqual([{ id: "sg-1" }]);
    expect(c.spec.role).toBe("nodes");
  });

  it("objects match Karpenter's CRD schemas, and a bad duration does not", async () => {
    await expect(validateCrd(karpenterNodePool(prod, pool(prod, "gpu-a100")))).resolves.toBeDefined();
    const bad = karpenterNodePool(prod, pool(prod, "gpu-a100"));
    bad.spec.disruption.consolidateAfter = "thirty minutes";
    await expect(validateCrd(bad)).rejects.toThrow(/NodePool gpu-a100 does not match its schema: \/spec\/disruption\/consolidateAfter/);
  });
});

describe.each(AWS_STACKS)("Karpenter on %s under mocks", (stackName) => {
  const b = () => built[stackName];

  it("installs the pinned chart with the cluster, its interruption queue and the controller's IRSA role", () => {
    const release = b().resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === "karpenter");
    if (!release) throw new Error("no karpenter release");
    expect(release.inputs).toMatchObject({ chart: KARPENTER.chart, version: "1.8.1", namespace: "kube-system" });
    const cluster = b().ofType("aws:eks/cluster:Cluster")[0];
    const queue = b().ofType("aws:sqs/queue:Queue")[0];
    const role = b().one("aws:iam/role:Role", "-karpenter-controller");
    const values = release.inputs.values as Inputs;
    expect(values.settings).toEqual({ clusterName: cluster?.outputs.name, interruptionQueue: queue?.outputs.name });
    expect(values.serviceAccount.annotations).toEqual({ "eks.amazonaws.com/role-arn": role.outputs.arn });
    const trust = parseJson(role.inputs.assumeRolePolicy);
    expect(Object.values(trust.Statement[0].Condition.StringEquals)).toContain("system:serviceaccount:kube-system:karpenter");
  });

  it("sends the four interruption events to an encrypted queue that only EventBridge and SQS may write", () => {
    const rules = b().ofType("aws:cloudwatch/eventRule:EventRule");
    expect(rules.map((r) => JSON.parse(r.inputs.eventPattern as string))).toEqual(Object.values(INTERRUPTION_EVENTS));
    const queue = b().ofType("aws:sqs/queue:Queue")[0];
    expect(queue?.inputs).toMatchObject({ sqsManagedSseEnabled: true, messageRetentionSeconds: 300 });
    for (const t of b().ofType("aws:cloudwatch/eventTarget:EventTarget")) expect(t.inputs.arn).toBe(queue?.outputs.arn);
    const policy = parseJson(b().ofType("aws:sqs/queuePolicy:QueuePolicy")[0]?.inputs.policy);
    expect(policy.Statement[1]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  it("gives its nodes a role of their own with an EC2_LINUX access entry", () => {
    const role = b().one("aws:iam/role:Role", "-karpenter-node");
    const entry = b()
      .ofType("aws:eks/accessEntry:AccessEntry")
      .find((e) => e.inputs.type === "EC2_LINUX");
    expect(entry?.inputs.principalArn).toBe(role.outputs.arn);
  });

  it("lets the controller pass only its node role and launch only instances tagged for this cluster", () => {
    const doc = parseJson(b().one("aws:iam/rolePolicy:RolePolicy", "-karpenter-controller").inputs.policy);
    const byId = Object.fromEntries((doc.Statement as Inputs[]).map((s) => [s.Sid, s]));
    expect(byId.AllowPassingInstanceRole?.Resource).toBe(b().one("aws:iam/role:Role", "-karpenter-node").outputs.arn);
    const cluster = b().ofType("aws:eks/cluster:Cluster")[0]?.outputs.name as string;
    expect(byId.AllowScopedDeletion?.Condition.StringEquals).toEqual({ [`aws:ResourceTag/kubernetes.io/cluster/${cluster}`]: "owned" });
  });

  it("creates an EC2NodeClass and a NodePool per GPU pool, after the chart that brings their CRDs", () => {
    const release = b().resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === "karpenter");
    const crs = b().resources.filter((r) => r.type.startsWith("kubernetes:karpenter"));
    const gpuPools = karpenterPools(b().spec.stack).map((p) => p.name);
    expect(crs.filter((r) => r.inputs.kind === "NodePool").map((r) => (r.inputs.metadata as Inputs).name)).toEqual(gpuPools);
    expect(crs.filter((r) => r.inputs.kind === "EC2NodeClass").map((r) => (r.inputs.metadata as Inputs).name)).toEqual(gpuPools);
    for (const cr of crs) expect(cr.options.dependsOn).toContain(release?.urn);
    const nodeClass = crs.find((r) => r.inputs.kind === "EC2NodeClass");
    const cluster = b().ofType("aws:eks/cluster:Cluster")[0];
    if (!nodeClass || !cluster) throw new Error("no EC2NodeClass or cluster recorded");
    expect((nodeClass.inputs.spec as Inputs).securityGroupSelectorTerms).toEqual([
      { id: (cluster.outputs.vpcConfig as Inputs).clusterSecurityGroupId },
    ]);
  });
});

describe.each(AWS_STACKS)("storage and metrics on %s", (stackName) => {
  const b = () => built[stackName];
  it("installs the EBS CSI driver add-on with its IRSA role, after the system nodes", () => {
    const addon = b().one("aws:eks/addon:Addon", "-ebs-csi");
    const role = b().one("aws:iam/role:Role", "-ebs-csi");
    expect(addon.inputs).toMatchObject({ addonName: "aws-ebs-csi-driver", serviceAccountRoleArn: role.outputs.arn });
    expect(Object.values(parseJson(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals)).toContain(
      "system:serviceaccount:kube-system:ebs-csi-controller-sa",
    );
    const group = b().ofType("aws:eks/nodeGroup:NodeGroup")[0];
    expect(addon.options.dependsOn).toContain(group?.urn);
  });

  it("makes encrypted gp3 the default StorageClass, bound where the pod lands", () => {
    const sc = b().resources.find((r) => r.type === "kubernetes:storage.k8s.io/v1:StorageClass");
    expect(sc?.inputs).toMatchObject({
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
    if (!sc) throw new Error("no StorageClass recorded");
    expect((sc.inputs.metadata as Inputs).annotations).toEqual({ "storageclass.kubernetes.io/is-default-class": "true" });
  });

  it("installs metrics-server, pinned, so HPAs read utilisation", () => {
    const ms = b().resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === "metrics-server");
    expect(ms?.inputs).toMatchObject({ chart: "metrics-server", version: "3.12.2", namespace: "kube-system" });
  });
});
