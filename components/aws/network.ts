import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { formatCidr, parseCidr, subnet } from "./cidr";
import { awsDefaults, awsTags } from "./defaults";
import { policyDocument, serviceTrustPolicy } from "./iam-policy";
import { encryptionKey } from "./kms";

/** Subnet tags the AWS Load Balancer Controller reads to place internet-facing and internal load balancers. */
export const ELB_ROLE_TAG = "kubernetes.io/role/elb";
export const INTERNAL_ELB_ROLE_TAG = "kubernetes.io/role/internal-elb";

/** Redshift Serverless refuses a workgroup with subnets in fewer than three AZs. */
export const REDSHIFT_MIN_AZS = 3;
/** RDS and ElastiCache subnet groups must span at least two AZs. */
export const DATA_MIN_AZS = 2;

export interface SubnetPlan {
  /** Index into the region's available AZs. */
  az: number;
  cidr: string;
  tags: Record<string, string>;
}

/** The VPC as plain data: CIDRs per AZ, NAT count, which private subnets the nodes use. */
export interface NetworkLayout {
  cidr: string;
  /** AZs that get subnets: the stack's AZs, raised to what the data services require. */
  subnetAzs: number;
  /** AZs the node groups spread over (stack.network.availabilityZones). */
  nodeAzs: number;
  /** One per AZ (prod: an AZ outage does not cut egress elsewhere) or one shared (dev: cheaper). */
  natGateways: number;
  publicSubnets: SubnetPlan[];
  privateSubnets: SubnetPlan[];
}

/**
 * Carves the VPC: private subnets are /19s of a /16 (pods take VPC addresses under the VPC CNI, so
 * they must be large); public subnets, which hold only NAT gateways and load balancers, are /24s
 * taken from the last /19. Subnets are tagged for load balancers and for the cluster.
 */
export function networkLayout(stack: StackSpec, clusterName: string): NetworkLayout {
  const vpc = parseCidr(stack.network.cidr);
  if (vpc.prefix > 20) {
    throw new Error(
      `network.cidr: ${stack.network.cidr} is too small for the platform's subnets; use a /20 or larger (a /16 is recommended)`,
    );
  }
  const nodeAzs = stack.network.availabilityZones;
  const needs = [nodeAzs, stack.tracking.enabled || stack.onlineStore.kind === "redis" ? DATA_MIN_AZS : 1];
  if (stack.offlineStore.kind === "redshift") needs.push(REDSHIFT_MIN_AZS);
  const subnetAzs = Math.max(...needs);
  const clusterTag = { [`kubernetes.io/cluster/${clusterName}`]: "shared" };
  const lastBlock = subnet(vpc, 3, 7);
  const range = Array.from({ length: subnetAzs }, (_, az) => az);
  return {
    cidr: stack.network.cidr,
    subnetAzs,
    nodeAzs,
    natGateways: stack.network.natPerAz ? subnetAzs : 1,
    privateSubnets: range.map((az) => ({
      az,
      cidr: formatCidr(subnet(vpc, 3, az)),
      tags: { ...clusterTag, [INTERNAL_ELB_ROLE_TAG]: "1", tier: "private" },
    })),
    publicSubnets: range.map((az) => ({
      az,
      cidr: formatCidr(subnet(lastBlock, 5, az)),
      tags: { ...clusterTag, [ELB_ROLE_TAG]: "1", tier: "public" },
    })),
  };
}

/**
 * VPC flow logs: every flow in prod (incident forensics), only rejected flows in dev (what a
 * security group blocked, at a fraction of the ingestion cost).
 */
export function flowLogSettings(stack: StackSpec): {
  trafficType: "ALL" | "REJECT";
  retentionInDays: number;
  maxAggregationInterval: 60 | 600;
} {
  const d = awsDefaults(stack);
  return { trafficType: d.prod ? "ALL" : "REJECT", retentionInDays: d.logRetentionDays, maxAggregationInterval: 600 };
}

/** What the flow-logs service may do with its log group: create streams and write events, nothing else. */
export function flowLogDeliveryPolicy(logGroupArn: string): string {
  return JSON.stringify(
    policyDocument([
      {
        Sid: "DeliverFlowLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: `${logGroupArn}:*`,
      },
    ]),
  );
}

export interface NetworkArgs {
  stack: StackSpec;
  /** The EKS cluster name the subnets are tagged for (kubernetes.io/cluster/<name>). */
  clusterName: string;
}

/**
 * VPC with public and private subnets across AZs, flow logs, an internet gateway, NAT gateway(s),
 * route tables, an S3 gateway endpoint (S3 traffic stays off the NAT) and a default security group
 * stripped of its rules.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: string;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  /** Private subnets of the node AZs (the first stack.network.availabilityZones). */
  readonly nodeSubnetIds: pulumi.Output<string>[];
  /** Prefix list of the S3 gateway endpoint, for security-group egress to S3. */
  readonly s3PrefixListId: pulumi.Output<string>;
  readonly layout: NetworkLayout;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:Network", name, {}, opts);
    const { stack } = args;
    const parent = { parent: this };
    const layout = networkLayout(stack, args.clusterName);
    this.layout = layout;
    this.vpcCidr = layout.cidr;

    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent).apply((z) => {
      if (z.names.length < layout.subnetAzs) {
        throw new Error(
          `region ${stack.region} has ${z.names.length} available AZs but the stack needs ${layout.subnetAzs}; lower network.availabilityZones or pick another region`,
        );
      }
      return z.names;
    });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: layout.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: awsTags(stack, `${name}-vpc`) },
      parent,
    );
    // Nothing may use the default security group: it would otherwise allow all traffic between its members.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: awsTags(stack, `${name}-default-sg`) }, parent);
    const flow = flowLogSettings(stack);
    // Encrypted with its own key (CKV_AWS_158): flow logs map every address that talked to the VPC.
    const flowLogKey = encryptionKey(`${name}-flow-logs`, stack, "VPC flow logs", this, { cloudWatchLogs: true });
    const flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { retentionInDays: flow.retentionInDays, kmsKeyId: flowLogKey.arn, tags: awsTags(stack, `${name}-flow-logs`) },
      parent,
    );
    const flowRole = new aws.iam.Role(
      `${name}-flow-logs`,
      { assumeRolePolicy: JSON.stringify(serviceTrustPolicy("vpc-flow-logs.amazonaws.com")), tags: awsTags(stack, `${name}-flow-logs`) },
      parent,
    );
    new aws.iam.RolePolicy(`${name}-flow-logs`, { role: flowRole.id, policy: flowLogGroup.arn.apply(flowLogDeliveryPolicy) }, parent);
    new aws.ec2.FlowLog(
      `${name}-flow-logs`,
      {
        vpcId: vpc.id,
        trafficType: flow.trafficType,
        logDestinationType: "cloud-watch-logs",
        logDestination: flowLogGroup.arn,
        iamRoleArn: flowRole.arn,
        maxAggregationInterval: flow.maxAggregationInterval,
        tags: awsTags(stack, `${name}-flow-logs`),
      },
      parent,
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: awsTags(stack, `${name}-igw`) }, parent);

    const publicRoutes = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, tags: awsTags(stack, `${name}-public-rt`) }, parent);
    new aws.ec2.Route(
      `${name}-public-default`,
      { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      parent,
    );

    const publicSubnets = layout.publicSubnets.map((plan) => {
      const subnetName = `${name}-public-${plan.az}`;
      const s = new aws.ec2.Subnet(
        subnetName,
        {
          vpcId: vpc.id,
          cidrBlock: plan.cidr,
          availabilityZone: zones.apply((z) => z[plan.az]!),
          mapPublicIpOnLaunch: false,
          tags: awsTags(stack, subnetName, plan.tags),
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${subnetName}-rt`, { subnetId: s.id, routeTableId: publicRoutes.id }, parent);
      return s;
    });

    const nats = Array.from({ length: layout.natGateways }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}-eip`, { domain: "vpc", tags: awsTags(stack, `${name}-nat-${i}-eip`) }, parent);
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        { allocationId: eip.id, subnetId: publicSubnets[i]!.id, connectivityType: "public", tags: awsTags(stack, `${name}-nat-${i}`) },
        { parent: this, dependsOn: [igw] },
      );
    });

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    const privateSubnets = layout.privateSubnets.map((plan) => {
      const subnetName = `${name}-private-${plan.az}`;
      const s = new aws.ec2.Subnet(
        subnetName,
        {
          vpcId: vpc.id,
          cidrBlock: plan.cidr,
          availabilityZone: zones.apply((z) => z[plan.az]!),
          tags: awsTags(stack, subnetName, plan.tags),
        },
        parent,
      );
      const routes = new aws.ec2.RouteTable(`${subnetName}-rt`, { vpcId: vpc.id, tags: awsTags(stack, `${subnetName}-rt`) }, parent);
      const nat = nats[layout.natGateways === 1 ? 0 : plan.az]!;
      new aws.ec2.Route(
        `${subnetName}-default`,
        { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${subnetName}-rt`, { subnetId: s.id, routeTableId: routes.id }, parent);
      privateRouteTables.push(routes);
      return s;
    });

    const s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${stack.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTables.map((rt) => rt.id),
        tags: awsTags(stack, `${name}-s3`),
      },
      parent,
    );

    this.vpcId = vpc.id;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.nodeSubnetIds = this.privateSubnetIds.slice(0, layout.nodeAzs);
    this.s3PrefixListId = s3Endpoint.prefixListId;
    this.registerOutputs({
      vpcId: this.vpcId,
      vpcCidr: this.vpcCidr,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      nodeSubnetIds: this.nodeSubnetIds,
      s3PrefixListId: this.s3PrefixListId,
      layout: this.layout,
    });
  }
}
