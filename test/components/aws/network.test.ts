import { beforeAll, describe, expect, it } from "vitest";
import { flowLogDeliveryPolicy, networkLayout } from "../../../components/aws";
import { useMocks } from "../../support/mocks";
import {
  AWS_STACKS,
  type AwsStackName,
  awsStacks,
  type BuiltFoundation,
  buildFoundations,
  type Inputs,
  loadAwsStack,
  parseJson,
} from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("aws-network", { region: "us-east-1" });
  built = await buildFoundations(mocks, awsStacks());
  expect(mocks.unknownInvokes).toEqual([]);
});

const SUBNET = "aws:ec2/subnet:Subnet";
const ROUTE = "aws:ec2/route:Route";

describe("network layout (pure)", () => {
  const dev = loadAwsStack("aws-dev").stack;
  const prod = loadAwsStack("aws-prod").stack;

  it("dev: two node AZs, three subnet AZs for Redshift Serverless, one shared NAT", () => {
    const layout = networkLayout(dev, "c");
    expect(layout).toMatchObject({ nodeAzs: 2, subnetAzs: 3, natGateways: 1 });
    expect(layout.privateSubnets.map((s) => s.cidr)).toEqual(["10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"]);
    expect(layout.publicSubnets.map((s) => s.cidr)).toEqual(["10.10.224.0/24", "10.10.225.0/24", "10.10.226.0/24"]);
  });

  it("prod: a NAT gateway per AZ, so one AZ's outage does not cut the others' egress", () => {
    expect(networkLayout(prod, "c")).toMatchObject({ nodeAzs: 3, subnetAzs: 3, natGateways: 3 });
  });

  it("without Redshift or data stores, subnets follow the stack's AZ count", () => {
    const stack = {
      ...dev,
      network: { ...dev.network, availabilityZones: 1 },
      tracking: { ...dev.tracking, enabled: false },
      onlineStore: { kind: "dynamodb" as const },
      offlineStore: { kind: "postgres" as const, database: "f" },
    };
    expect(networkLayout(stack, "c")).toMatchObject({ nodeAzs: 1, subnetAzs: 1, natGateways: 1 });
  });

  it("tags public subnets for internet-facing and private subnets for internal load balancers, both for the cluster", () => {
    const layout = networkLayout(prod, "my-cluster");
    for (const s of layout.publicSubnets)
      expect(s.tags).toMatchObject({ "kubernetes.io/role/elb": "1", "kubernetes.io/cluster/my-cluster": "shared" });
    for (const s of layout.privateSubnets)
      expect(s.tags).toMatchObject({ "kubernetes.io/role/internal-elb": "1", "kubernetes.io/cluster/my-cluster": "shared" });
  });

  it("refuses a VPC too small for the subnets, naming the field and the fix", () => {
    const stack = { ...dev, network: { ...dev.network, cidr: "10.0.0.0/24" } };
    expect(() => networkLayout(stack, "c")).toThrow(/network\.cidr: 10\.0\.0\.0\/24 is too small.*use a \/20 or larger/);
  });
});

describe.each(AWS_STACKS)("network of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const privateSubnets = () =>
    b()
      .ofType(SUBNET)
      .filter((s) => s.name.includes("-private-"));
  const publicSubnets = () =>
    b()
      .ofType(SUBNET)
      .filter((s) => s.name.includes("-public-"));

  it("creates the VPC with the stack's CIDR and DNS hostnames (a private EKS endpoint needs them)", () => {
    const vpc = b().one("aws:ec2/vpc:Vpc", "-vpc").inputs;
    expect(vpc.cidrBlock).toBe(b().spec.stack.network.cidr);
    expect(vpc.enableDnsHostnames).toBe(true);
    expect(vpc.enableDnsSupport).toBe(true);
  });

  it("spreads private and public subnets over distinct AZs from the region's list", () => {
    expect(privateSubnets().map((s) => s.inputs.availabilityZone)).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(publicSubnets().map((s) => s.inputs.availabilityZone)).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    for (const s of publicSubnets()) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    for (const s of privateSubnets()) expect((s.inputs.tags as Inputs)["kubernetes.io/role/internal-elb"]).toBe("1");
  });

  it("routes private subnets to the internet only through NAT, public subnets through the internet gateway", () => {
    const nats = b().ofType("aws:ec2/natGateway:NatGateway");
    expect(nats).toHaveLength(stackName === "aws-prod" ? 3 : 1);
    const natIds = nats.map((n) => n.outputs.id);
    const privateDefaults = b()
      .ofType(ROUTE)
      .filter((r) => r.name.includes("-private-"));
    expect(privateDefaults).toHaveLength(3);
    for (const r of privateDefaults) {
      expect(r.inputs.destinationCidrBlock).toBe("0.0.0.0/0");
      expect(natIds).toContain(r.inputs.natGatewayId);
      expect(r.inputs.gatewayId).toBeUndefined();
    }
    expect(new Set(privateDefaults.map((r) => r.inputs.natGatewayId)).size).toBe(nats.length);
    const igw = b().one("aws:ec2/internetGateway:InternetGateway", "-igw");
    expect(b().one(ROUTE, "-public-default").inputs.gatewayId).toBe(igw.outputs.id);
    for (const nat of nats) expect(publicSubnets().map((s) => s.outputs.id)).toContain(nat.inputs.subnetId);
  });

  it("keeps S3 traffic off the NAT with a gateway endpoint on every private route table", () => {
    const endpoint = b().one("aws:ec2/vpcEndpoint:VpcEndpoint", "-s3").inputs;
    expect(endpoint.serviceName).toBe(`com.amazonaws.${b().spec.stack.region}.s3`);
    expect(endpoint.vpcEndpointType).toBe("Gateway");
    const privateTables = b()
      .ofType("aws:ec2/routeTable:RouteTable")
      .filter((r) => r.name.includes("-private-"));
    expect(endpoint.routeTableIds).toEqual(privateTables.map((t) => t.outputs.id));
  });

  it("records VPC flow logs to a log group with retention: every flow in prod, rejected flows in dev", () => {
    const prod = stackName === "aws-prod";
    const group = b().one("aws:cloudwatch/logGroup:LogGroup", "-net-flow-logs");
    const role = b().one("aws:iam/role:Role", "-net-flow-logs");
    const flow = b().one("aws:ec2/flowLog:FlowLog", "-net-flow-logs").inputs;
    expect(flow).toMatchObject({
      vpcId: b().one("aws:ec2/vpc:Vpc", "-vpc").outputs.id,
      trafficType: prod ? "ALL" : "REJECT",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.outputs.arn,
      iamRoleArn: role.outputs.arn,
    });
    expect(group.inputs.retentionInDays).toBe(prod ? 365 : 30);
    expect(parseJson(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "vpc-flow-logs.amazonaws.com" });
    expect(b().one("aws:iam/rolePolicy:RolePolicy", "-net-flow-logs").inputs.policy).toBe(flowLogDeliveryPolicy(String(group.outputs.arn)));
  });

  it("strips every rule from the VPC's default security group", () => {
    const sg = b().one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "-default-sg").inputs;
    expect(sg.ingress ?? []).toEqual([]);
    expect(sg.egress ?? []).toEqual([]);
  });

  it("puts node groups only in private subnets of the stack's node AZs", () => {
    const nodeSubnets = privateSubnets()
      .slice(0, b().spec.stack.network.availabilityZones)
      .map((s) => s.outputs.id);
    for (const group of b().ofType("aws:eks/nodeGroup:NodeGroup")) expect(group.inputs.subnetIds).toEqual(nodeSubnets);
  });
});
