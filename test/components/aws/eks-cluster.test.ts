import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { CONTROL_PLANE_LOG_TYPES, clusterSettings, kubeconfigFor } from "../../../components/aws";
import { valueOf as outputValue } from "../../support/mocks";
import { AWS_STACKS, type AwsStackName, type BuiltFoundation, builtFoundations, type Inputs, loadAwsStack, parseJson } from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  built = await builtFoundations("aws-eks");
});

const dev = loadAwsStack("aws-dev");
const prod = loadAwsStack("aws-prod");
const CLUSTER = "aws:eks/cluster:Cluster";
const KEY = "aws:kms/key:Key";

describe("cluster settings (pure)", () => {
  it("enable every control-plane log type and KMS encryption of secrets", () => {
    const s = clusterSettings(dev.stack, "c");
    expect(s.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(s.enabledClusterLogTypes).toEqual([...CONTROL_PLANE_LOG_TYPES]);
    expect(s.encryptedResources).toEqual(["secrets"]);
    expect(s.authenticationMode).toBe("API");
  });

  it("prod: private endpoint only; dev: public endpoint limited to the stack's CIDRs", () => {
    expect(clusterSettings(prod.stack, "c")).toMatchObject({
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
      publicAccessCidrs: [],
      deletionProtection: true,
    });
    expect(clusterSettings(dev.stack, "c")).toMatchObject({
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["REPLACE-WITH-YOUR-EGRESS-CIDR"],
      deletionProtection: false,
    });
  });

  it("refuses a public endpoint without CIDRs, which AWS would open to the world", () => {
    const stack = { ...prod.stack, cluster: { ...prod.stack.cluster, privateEndpoint: false } };
    expect(() => clusterSettings(stack, "c")).toThrow(
      /publicAccessCidrs is empty while the API endpoint is public.*set cluster\.privateEndpoint: true/,
    );
  });

  it("writes a kubeconfig that authenticates with `aws eks get-token` and holds no token", () => {
    const text = kubeconfigFor({
      clusterName: "prod-eks",
      endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
      certificateAuthority: "Q0E=",
      region: "eu-west-1",
    });
    const config = parse(text);
    expect(config["current-context"]).toBe("prod-eks");
    expect(config.clusters[0].cluster).toEqual({
      server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
      "certificate-authority-data": "Q0E=",
    });
    const user = config.users[0].user;
    expect(Object.keys(user)).toEqual(["exec"]);
    expect(user.exec.command).toBe("aws");
    expect(user.exec.args).toEqual(["eks", "get-token", "--cluster-name", "prod-eks", "--region", "eu-west-1", "--output", "json"]);
    expect(user.exec.apiVersion).toBe("client.authentication.k8s.io/v1beta1");
  });
});

describe.each(AWS_STACKS)("EKS cluster of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const cluster = () => b().ofType(CLUSTER)[0] as NonNullable<ReturnType<BuiltFoundation["ofType"]>[number]>;
  const prod = stackName === "aws-prod";

  it("envelope-encrypts Kubernetes secrets with its own rotating KMS key", () => {
    const key = b().one(KEY, "-eks-secrets-key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(key.inputs.deletionWindowInDays).toBe(prod ? 30 : 7);
    expect(cluster().inputs.encryptionConfig).toEqual({ provider: { keyArn: key.outputs.arn }, resources: ["secrets"] });
    const kmsPolicy = parseJson(b().one("aws:iam/rolePolicy:RolePolicy", "-eks-kms").inputs.policy);
    expect(kmsPolicy.Statement[0].Resource).toBe(key.outputs.arn);
    expect(kmsPolicy.Statement[0].Action).toEqual(["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]);
  });

  it("sends every control-plane log type to a log group it owns, with retention", () => {
    expect(cluster().inputs.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    const logs = b().one("aws:cloudwatch/logGroup:LogGroup", "-eks-logs").inputs;
    expect(logs.name).toBe(`/aws/eks/${cluster().inputs.name}/cluster`);
    expect(logs.retentionInDays).toBe(prod ? 365 : 30);
  });

  it(prod ? "serves the API only on a private endpoint" : "serves the API publicly only to the stack's CIDRs", () => {
    const vpc = cluster().inputs.vpcConfig as Inputs;
    expect(vpc.endpointPrivateAccess).toBe(true);
    if (prod) {
      expect(vpc.endpointPublicAccess).toBe(false);
      expect(vpc.publicAccessCidrs).toBeUndefined();
    } else {
      expect(vpc.endpointPublicAccess).toBe(true);
      expect(vpc.publicAccessCidrs).toEqual(["REPLACE-WITH-YOUR-EGRESS-CIDR"]);
    }
    const privateIds = b()
      .ofType("aws:ec2/subnet:Subnet")
      .filter((s) => s.name.includes("-private-"))
      .map((s) => s.outputs.id);
    expect(vpc.subnetIds).toEqual(privateIds);
  });

  it("uses EKS access entries (API mode), Kubernetes version and deletion protection from the stack", () => {
    expect(cluster().inputs.accessConfig).toEqual({ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true });
    expect(cluster().inputs.version).toBe("1.31");
    expect(cluster().inputs.deletionProtection).toBe(prod);
    expect(cluster().inputs.name).toBe(`${stackName}-${stackName}`);
    const trust = parseJson(b().one("aws:iam/role:Role", "-eks-role").inputs.assumeRolePolicy);
    expect(trust.Statement).toEqual([{ Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: "sts:AssumeRole" }]);
  });

  it("registers the cluster's OIDC issuer with IAM for IRSA, for the STS audience", () => {
    const oidc = b().one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "-eks-oidc").inputs;
    const issuer = ((cluster().outputs.identities as Inputs[])[0] as Inputs).oidcs[0].issuer;
    expect(oidc.url).toBe(issuer);
    expect(oidc.url).toMatch(/^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(oidc.clientIdLists).toEqual(["sts.amazonaws.com"]);
  });

  it("gives nodes a role with the worker, CNI, image-pull and SSM policies, and nothing else", () => {
    const attachments = b()
      .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((a) => a.name.includes("-eks-node-"))
      .map((a) => a.inputs.policyArn);
    expect(attachments.sort()).toEqual(
      ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore"].map(
        (p) => `arn:aws:iam::aws:policy/${p}`,
      ),
    );
    const trust = parseJson(b().one("aws:iam/role:Role", "-eks-node-role").inputs.assumeRolePolicy);
    expect(trust.Statement[0].Principal).toEqual({ Service: "ec2.amazonaws.com" });
  });

  it("hands out a secret kubeconfig that authenticates with `aws eks get-token`, and IRSA as the identity kind", async () => {
    const access = b().foundation.cluster;
    expect(access.workloadIdentity).toBe("irsa");
    expect(await pulumi.isSecret(access.kubeconfig)).toBe(true);
    const config = parse(await outputValue(access.kubeconfig));
    expect(config.clusters[0].cluster.server).toBe(cluster().outputs.endpoint);
    expect(config.users[0].user.exec.args).toEqual([
      "eks",
      "get-token",
      "--cluster-name",
      `${stackName}-${stackName}`,
      "--region",
      b().spec.stack.region,
      "--output",
      "json",
    ]);
    expect(await outputValue(access.name)).toBe(`${stackName}-${stackName}`);
  });
});
