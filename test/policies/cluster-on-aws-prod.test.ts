import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { changed, type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The EKS cluster policies (policies/security-cluster.ts) and node-metadata-hardened
 * (policies/security-nodes.ts) over aws-prod's real plan, broken one way at a time, each case
 * asserting the whole list of violations (message and fix). aws-prod: one EKS cluster
 * "mlops-aws-eks" with a private endpoint, node group "mlops-aws-system" in the three private
 * subnets, public subnets routed to the internet gateway by an aws:ec2/route:Route, and two
 * Karpenter EC2NodeClasses (gpu-l4, gpu-a100) with IMDSv2 and hop limit 1.
 */

const EKS = "aws:eks/cluster:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const SUBNET = "aws:ec2/subnet:Subnet";
const ROUTE = "aws:ec2/route:Route";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";

const resources = realPlan("aws-prod");

const run = (name: string, all: PlanResource[]): Found => violationsOf(all, "aws-prod", name);

/** The plan with the resource of `type` named `name` changed. */
const broken = (type: string, name: string, change: (r: Props) => void, all = resources) =>
  withBreakage(all, { type, match: (r) => r.name === name, change });

/** The output id of the resource named `name` (subnet, route table, gateway ids are made up by the mocks). */
const idOf = (name: string): string => {
  const found = resources.find((r) => r.name === name);
  expect(found, `no resource ${name}`).toBeDefined();
  return (found as PlanResource).outputs.id as string;
};

/** The node group placed in these subnets (by name). */
const nodeGroupIn = (subnets: string[], all = resources) =>
  broken(
    NODE_GROUP,
    "mlops-aws-system",
    (r) => {
      r.subnetIds = subnets.map(idOf);
    },
    all,
  );

const PRIVATE_FIX = "place node groups in the private subnets (NAT for egress)";
const inPublicSubnet = (subnet: string, why: string) => ({
  message: `EKS node group "mlops-aws-system": runs in public subnet "${subnet}" (${why}).`,
  fix: PRIVATE_FIX,
});
const ROUTED = "its route table sends 0.0.0.0/0 to an internet gateway";

describe("kubernetes-nodes-private on aws-prod's real network", () => {
  const nodes = (all: PlanResource[]) => run("kubernetes-nodes-private", all);

  it("passes the real output: private subnets route 0.0.0.0/0 to NAT gateways, not the internet gateway", () => {
    expect(nodes(resources)).toEqual([]);
  });

  it("a node group in two public subnets (mapPublicIpOnLaunch false, routed to the internet gateway) is named once per subnet", () => {
    expect(nodes(nodeGroupIn(["mlops-aws-net-private-0", "mlops-aws-net-public-0", "mlops-aws-net-public-1"]))).toEqual([
      inPublicSubnet("mlops-aws-net-public-0", ROUTED),
      inPublicSubnet("mlops-aws-net-public-1", ROUTED),
    ]);
  });

  it("a subnet that maps public IPs is public for that reason, whatever its route table", () => {
    const all = broken(SUBNET, "mlops-aws-net-private-1", (r) => {
      r.mapPublicIpOnLaunch = true;
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-private-1"], all))).toEqual([
      inPublicSubnet("mlops-aws-net-private-1", "mapPublicIpOnLaunch"),
    ]);
  });

  it("a public subnet that also maps public IPs names mapPublicIpOnLaunch", () => {
    const all = broken(SUBNET, "mlops-aws-net-public-2", (r) => {
      r.mapPublicIpOnLaunch = true;
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-public-2"], all))).toEqual([inPublicSubnet("mlops-aws-net-public-2", "mapPublicIpOnLaunch")]);
  });

  it("a default route over IPv6 (::/0) to the internet gateway makes the subnet public too", () => {
    const all = broken(ROUTE, "mlops-aws-net-public-default", (r) => {
      delete r.destinationCidrBlock;
      r.destinationIpv6CidrBlock = "::/0";
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-public-0"], all))).toEqual([inPublicSubnet("mlops-aws-net-public-0", ROUTED)]);
  });

  it("a route to the internet gateway for one prefix only is no default route", () => {
    const all = broken(ROUTE, "mlops-aws-net-public-default", (r) => {
      r.destinationCidrBlock = "192.0.2.0/24";
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-public-0"], all))).toEqual([]);
  });

  it("a default route to something that is not an internet gateway (a NAT) keeps the subnet private", () => {
    const all = broken(ROUTE, "mlops-aws-net-public-default", (r) => {
      delete r.gatewayId;
      r.natGatewayId = "nat-1";
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-public-0"], all))).toEqual([]);
  });

  it("a private route table with an inline 0.0.0.0/0 route to the internet gateway (RouteTable.routes: cidrBlock) makes its subnet public", () => {
    const igw = idOf("mlops-aws-net-igw");
    const all = broken(ROUTE_TABLE, "mlops-aws-net-private-0-rt", (r) => {
      r.routes = [{ cidrBlock: "0.0.0.0/0", gatewayId: igw }];
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-private-0"], all))).toEqual([inPublicSubnet("mlops-aws-net-private-0", ROUTED)]);
  });

  it("an inline ::/0 route (ipv6CidrBlock) to the internet gateway among others makes its subnet public", () => {
    const igw = idOf("mlops-aws-net-igw");
    const all = broken(ROUTE_TABLE, "mlops-aws-net-private-2-rt", (r) => {
      r.routes = [
        { cidrBlock: "10.99.0.0/16", gatewayId: igw },
        { ipv6CidrBlock: "::/0", gatewayId: igw },
      ];
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-private-2"], all))).toEqual([inPublicSubnet("mlops-aws-net-private-2", ROUTED)]);
  });

  it("an inline default route to a NAT gateway keeps the subnet private", () => {
    const all = broken(ROUTE_TABLE, "mlops-aws-net-private-0-rt", (r) => {
      r.routes = [{ cidrBlock: "0.0.0.0/0", natGatewayId: "nat-1" }];
    });
    expect(nodes(nodeGroupIn(["mlops-aws-net-private-0"], all))).toEqual([]);
  });

  it("a subnet id that is not in the stack is not judged", () => {
    const all = broken(NODE_GROUP, "mlops-aws-system", (r) => {
      r.subnetIds = ["subnet-elsewhere"];
    });
    expect(nodes(all)).toEqual([]);
  });

  it("remote access without source security groups opens SSH to anywhere", () => {
    const all = broken(NODE_GROUP, "mlops-aws-system", (r) => {
      r.remoteAccess = { ec2SshKey: "ops" };
    });
    expect(nodes(all)).toEqual([
      {
        message: 'EKS node group "mlops-aws-system": allows SSH from anywhere (remoteAccess without sourceSecurityGroupIds).',
        fix: "remove remoteAccess (use SSM) or restrict it with sourceSecurityGroupIds",
      },
    ]);
  });

  it("remote access limited to a bastion's security group passes", () => {
    const all = broken(NODE_GROUP, "mlops-aws-system", (r) => {
      r.remoteAccess = { ec2SshKey: "ops", sourceSecurityGroupIds: ["sg-bastion"] };
    });
    expect(nodes(all)).toEqual([]);
  });

  it("without any node group or GKE cluster the policy has nothing to judge", () => {
    expect(nodes(resources.filter((r) => r.type !== NODE_GROUP))).toEqual([]);
  });
});

describe("kubernetes-endpoint-private on aws-prod's real EKS cluster", () => {
  const endpoint = (all: PlanResource[]) => run("kubernetes-endpoint-private", all);
  const PUBLIC_IN_PROD = {
    message: 'EKS cluster "mlops-aws-eks": has a public API endpoint in a prod stack.',
    fix: "set vpcConfig.endpointPublicAccess: false (cluster.privateEndpoint: true in the stack file)",
  };
  const NO_PRIVATE = {
    message: 'EKS cluster "mlops-aws-eks": nodes reach the API over the internet (endpointPrivateAccess is off).',
    fix: "set vpcConfig.endpointPrivateAccess: true",
  };

  it("passes the real output", () => {
    expect(endpoint(resources)).toEqual([]);
  });

  it("a public endpoint in prod is wrong even when limited to listed CIDRs (and only the prod message is said)", () => {
    const all = broken(EKS, "mlops-aws-eks", (r) => {
      r.vpcConfig.endpointPublicAccess = true;
      r.vpcConfig.publicAccessCidrs = ["0.0.0.0/0"];
    });
    expect(endpoint(all)).toEqual([PUBLIC_IN_PROD]);
  });

  it("endpointPublicAccess left unset is public (the EKS default)", () => {
    const all = broken(EKS, "mlops-aws-eks", (r) => {
      delete r.vpcConfig.endpointPublicAccess;
    });
    expect(endpoint(all)).toEqual([PUBLIC_IN_PROD]);
  });

  it("endpointPrivateAccess off", () => {
    const all = broken(EKS, "mlops-aws-eks", (r) => {
      r.vpcConfig.endpointPrivateAccess = false;
    });
    expect(endpoint(all)).toEqual([NO_PRIVATE]);
  });

  it("no vpcConfig at all: no private access and a public endpoint", () => {
    const all = broken(EKS, "mlops-aws-eks", (r) => {
      delete r.vpcConfig;
    });
    expect(endpoint(all)).toEqual([NO_PRIVATE, PUBLIC_IN_PROD]);
  });
});

describe("kubernetes-secrets-encrypted on aws-prod's real EKS cluster", () => {
  const secrets = (all: PlanResource[]) => run("kubernetes-secrets-encrypted", all);
  const NOT_ENCRYPTED = [
    {
      message: 'EKS cluster "mlops-aws-eks": Secrets are not envelope-encrypted with KMS.',
      fix: 'set encryptionConfig: { resources: ["secrets"], provider: { keyArn: <aws.kms.Key arn> } }',
    },
  ];
  const encryption = (change: (enc: Props) => void) => broken(EKS, "mlops-aws-eks", (r) => change(r.encryptionConfig));

  it("passes the real output", () => {
    expect(secrets(resources)).toEqual([]);
  });

  it("no encryptionConfig", () => {
    expect(secrets(broken(EKS, "mlops-aws-eks", (r) => delete r.encryptionConfig))).toEqual(NOT_ENCRYPTED);
  });

  it("a KMS key that encrypts something other than secrets", () => {
    expect(
      secrets(
        encryption((enc) => {
          enc.resources = ["configmaps"];
        }),
      ),
    ).toEqual(NOT_ENCRYPTED);
  });

  it("secrets listed but no provider", () => {
    expect(secrets(encryption((enc) => delete enc.provider))).toEqual(NOT_ENCRYPTED);
  });

  it("secrets listed but a provider without a key ARN", () => {
    expect(
      secrets(
        encryption((enc) => {
          enc.provider.keyArn = "";
        }),
      ),
    ).toEqual(NOT_ENCRYPTED);
  });
});

describe("kubernetes-workload-identity on aws-prod's real EKS cluster", () => {
  const identity = (all: PlanResource[]) => run("kubernetes-workload-identity", all);
  const OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
  const NO_IRSA = {
    message:
      'EKS cluster "mlops-aws-eks": has no IAM OIDC provider (IRSA) or Pod Identity association, so pods would need node or static credentials.',
    fix: "create an aws.iam.OpenIdConnectProvider for the cluster's OIDC issuer and annotate ServiceAccounts with eks.amazonaws.com/role-arn",
  };
  const withoutOidc = () => resources.filter((r) => r.type !== OIDC);

  it("passes the real output (IRSA through the cluster's OIDC provider)", () => {
    expect(identity(resources)).toEqual([]);
  });

  it("no OIDC provider and no Pod Identity association", () => {
    expect(identity(withoutOidc())).toEqual([NO_IRSA]);
  });

  it("a Pod Identity association instead of the OIDC provider passes", () => {
    const association = resource("aws:eks/podIdentityAssociation:PodIdentityAssociation", "feast-pod-identity", {
      clusterName: "mlops-aws-aws-prod",
      namespace: "mlops",
      serviceAccount: "feast",
      roleArn: "arn:aws:iam::123456789012:role/feast",
    });
    expect(identity([...withoutOidc(), association])).toEqual([]);
  });

  it("a GKE cluster in the same stack is judged too: both clouds' checks run", () => {
    const gke = resource("gcp:container/cluster:Cluster", "side-gke", { location: "europe-west4" });
    expect(identity([...withoutOidc(), gke])).toEqual([
      NO_IRSA,
      {
        message: 'GKE cluster "side-gke": Workload Identity is off.',
        fix: 'set workloadIdentityConfig: { workloadPool: "<project>.svc.id.goog" }',
      },
    ]);
  });
});

describe("kubernetes-control-plane-logs on aws-prod's real EKS cluster", () => {
  const logs = (all: PlanResource[]) => run("kubernetes-control-plane-logs", all);
  const FIX = 'set enabledClusterLogTypes: ["api","audit","authenticator","controllerManager","scheduler"]';

  it("passes the real output", () => {
    expect(logs(resources)).toEqual([]);
  });

  it("only API and audit logs: the other three are named, in order", () => {
    const all = broken(EKS, "mlops-aws-eks", (r) => {
      r.enabledClusterLogTypes = ["audit", "api"];
    });
    expect(logs(all)).toEqual([
      { message: 'EKS cluster "mlops-aws-eks": control-plane log types authenticator, controllerManager, scheduler are off.', fix: FIX },
    ]);
  });

  it("no log types at all", () => {
    const all = broken(EKS, "mlops-aws-eks", (r) => delete r.enabledClusterLogTypes);
    expect(logs(all)).toEqual([
      {
        message: 'EKS cluster "mlops-aws-eks": control-plane log types api, audit, authenticator, controllerManager, scheduler are off.',
        fix: FIX,
      },
    ]);
  });
});

describe("node-metadata-hardened on aws-prod's real EC2NodeClasses", () => {
  const metadata = (all: PlanResource[]) => run("node-metadata-hardened", all);
  const FIX = 'set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }';
  const gpuClass = (change: (options: Props) => void) =>
    broken(NODE_CLASS, "mlops-aws-addons-karpenter-gpu-l4-class", (r) => change(r.spec.metadataOptions));
  const onGpuL4 = (problems: string) => [{ message: `EC2NodeClass "gpu-l4": instance metadata: ${problems}.`, fix: FIX }];

  it("passes the real output", () => {
    expect(metadata(resources)).toEqual([]);
  });

  it("IMDSv1 allowed (httpTokens optional)", () => {
    expect(
      metadata(
        gpuClass((o) => {
          o.httpTokens = "optional";
        }),
      ),
    ).toEqual(onGpuL4('httpTokens is "optional"'));
  });

  it("httpTokens unset is optional", () => {
    expect(metadata(gpuClass((o) => delete o.httpTokens))).toEqual(onGpuL4('httpTokens is "optional"'));
  });

  it("a hop limit of 2 lets pods reach the endpoint", () => {
    expect(
      metadata(
        gpuClass((o) => {
          o.httpPutResponseHopLimit = 2;
        }),
      ),
    ).toEqual(onGpuL4("hop limit 2 lets pods reach it"));
  });

  it("the hop limit unset is the default of 2", () => {
    expect(metadata(gpuClass((o) => delete o.httpPutResponseHopLimit))).toEqual(onGpuL4("hop limit default lets pods reach it"));
  });

  it("both problems in one message, tokens first", () => {
    expect(
      metadata(
        gpuClass((o) => {
          o.httpTokens = "optional";
          o.httpPutResponseHopLimit = 3;
        }),
      ),
    ).toEqual(onGpuL4('httpTokens is "optional", hop limit 3 lets pods reach it'));
  });

  it("no metadataOptions at all: both defaults are wrong", () => {
    const all = broken(NODE_CLASS, "mlops-aws-addons-karpenter-gpu-a100-class", (r) => delete r.spec.metadataOptions);
    expect(metadata(all)).toEqual([
      { message: 'EC2NodeClass "gpu-a100": instance metadata: httpTokens is "optional", hop limit default lets pods reach it.', fix: FIX },
    ]);
  });

  it("the metadata endpoint disabled: tokens and hop limit do not matter", () => {
    expect(
      metadata(
        gpuClass((o) => {
          o.httpEndpoint = "disabled";
          o.httpTokens = "optional";
          o.httpPutResponseHopLimit = 2;
        }),
      ),
    ).toEqual([]);
  });

  it("an EC2NodeClass without metadata.name is named by its resource name", () => {
    const all = broken(NODE_CLASS, "mlops-aws-addons-karpenter-gpu-l4-class", (r) => {
      delete r.metadata.name;
      r.spec.metadataOptions.httpTokens = "optional";
    });
    expect(metadata(all)).toEqual([
      { message: 'EC2NodeClass "mlops-aws-addons-karpenter-gpu-l4-class": instance metadata: httpTokens is "optional".', fix: FIX },
    ]);
  });

  it("a launch template (self-managed nodes) without metadataOptions, and one with them", () => {
    const open = resource(LAUNCH_TEMPLATE, "batch-nodes", { imageId: "ami-1", instanceType: "m6i.large" });
    const hardened = resource(LAUNCH_TEMPLATE, "infer-nodes", {
      imageId: "ami-1",
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    });
    expect(metadata([...resources, open, hardened])).toEqual([
      {
        message: 'launch template "batch-nodes": instance metadata: httpTokens is "optional", hop limit default lets pods reach it.',
        fix: FIX,
      },
    ]);
  });

  it("one launch template and one EC2NodeClass without any GKE pool are both judged", () => {
    const open = resource(LAUNCH_TEMPLATE, "batch-nodes", { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } });
    const nodeClass = changed(resources.find((r) => r.type === NODE_CLASS) as PlanResource, (r) => {
      r.spec.metadataOptions.httpTokens = "optional";
    });
    expect(metadata([open, nodeClass])).toEqual([
      { message: 'launch template "batch-nodes": instance metadata: hop limit 2 lets pods reach it.', fix: FIX },
      ...onGpuL4('httpTokens is "optional"'),
    ]);
  });

  it("a Karpenter NodePool or an EC2NodeClass of another group is not a node class", () => {
    const lookalikes = ["kubernetes:karpenter.sh/v1:EC2NodeClass", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClassList"].map((type) =>
      resource(type, `lookalike-${type.length}`, { metadata: { name: "x" }, spec: { metadataOptions: { httpTokens: "optional" } } }),
    );
    expect(metadata([...resources, ...lookalikes])).toEqual([]);
  });
});
