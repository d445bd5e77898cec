import { AWS_ACCOUNT, type MockTable, type OutputsFn, suffix } from "./types";

/**
 * Realistic AWS outputs and data-source results. Extend with every AWS type and invoke the
 * components use; an invoke missing here fails the plan (no silent pass).
 */

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
/** Physical name the provider would generate: the Pulumi name plus a random-looking suffix. */
const autoName = (name: string, inputs: Record<string, unknown>, key = "name", lower = false): string => {
  const n = str(inputs[key]) ?? `${name}-${suffix(name, 7)}`;
  return lower ? n.toLowerCase() : n;
};
/** us-east-1 -> use1, eu-west-1 -> euw1 (the short region code in ElastiCache endpoints). */
const regionCode = (region: string): string => region.replace(/^([a-z]{2})-([a-z])[a-z]*-(\d+)$/, "$1$2$3");
const uuid = (seed: string): string => {
  const h = suffix(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const arn = (service: string, region: string, resource: string): string => `arn:aws:${service}:${region}:${AWS_ACCOUNT}:${resource}`;

/** EC2 ids: a prefix and 17 hex digits (vpc-0a1b..., subnet-..., sg-...). */
const ec2: (prefix: string, type: string) => OutputsFn =
  (prefix, type) =>
  ({ name, region }) => {
    const id = `${prefix}-${suffix(`${prefix}${name}`, 17)}`;
    return { id, arn: arn("ec2", region, `${type}/${id}`), ownerId: AWS_ACCOUNT };
  };

/** Sub-resources of a bucket (public access block, SSE, versioning, lifecycle, policy): id = bucket name. */
const bucketPart: OutputsFn = ({ inputs }) => ({ id: String(inputs.bucket ?? "") });

export const aws: MockTable = {
  outputs: {
    // Network
    "aws:ec2/vpc:Vpc": (ctx) => {
      const base = ec2("vpc", "vpc")(ctx);
      return {
        ...base,
        defaultSecurityGroupId: `sg-${suffix(`dsg${ctx.name}`, 17)}`,
        mainRouteTableId: `rtb-${suffix(`mrt${ctx.name}`, 17)}`,
        defaultNetworkAclId: `acl-${suffix(`acl${ctx.name}`, 17)}`,
      };
    },
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ec2("sg", "security-group"),
    "aws:ec2/subnet:Subnet": (ctx) => ({
      ...ec2("subnet", "subnet")(ctx),
      availabilityZoneId: `${regionCode(ctx.region)}-az${(parseInt(suffix(ctx.name, 1), 16) % 3) + 1}`,
    }),
    "aws:ec2/internetGateway:InternetGateway": ec2("igw", "internet-gateway"),
    "aws:ec2/eip:Eip": ({ name }) => {
      const id = `eipalloc-${suffix(name, 17)}`;
      const n = parseInt(suffix(name, 4), 16);
      return { id, allocationId: id, publicIp: `52.${(n >> 8) % 256}.${n % 256}.${(n % 250) + 3}`, domain: "vpc" };
    },
    "aws:ec2/natGateway:NatGateway": (ctx) => {
      const n = parseInt(suffix(ctx.name, 4), 16);
      return {
        ...ec2("nat", "natgateway")(ctx),
        privateIp: `10.${n % 256}.${(n >> 8) % 256}.${(n % 200) + 10}`,
        networkInterfaceId: `eni-${suffix(`eni${ctx.name}`, 17)}`,
      };
    },
    "aws:ec2/routeTable:RouteTable": ec2("rtb", "route-table"),
    "aws:ec2/route:Route": ({ name, inputs }) => ({
      id: `r-${String(inputs.routeTableId ?? name)}1080289494`,
      origin: "CreateRoute",
      state: "active",
    }),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ({ name }) => ({ id: `rtbassoc-${suffix(name, 17)}` }),
    "aws:ec2/flowLog:FlowLog": (ctx) => ec2("fl", "vpc-flow-log")(ctx),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (ctx) => ({
      ...ec2("vpce", "vpc-endpoint")(ctx),
      prefixListId: `pl-${suffix(`pl${ctx.region}`, 8)}`,
      state: "available",
    }),
    "aws:ec2/securityGroup:SecurityGroup": (ctx) => ({ ...ec2("sg", "security-group")(ctx), name: autoName(ctx.name, ctx.inputs) }),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (ctx) => ({
      ...ec2("sgr", "security-group-rule")(ctx),
      securityGroupRuleId: `sgr-${suffix(`sgr${ctx.name}`, 17)}`,
    }),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (ctx) => ({
      ...ec2("sgr", "security-group-rule")(ctx),
      securityGroupRuleId: `sgr-${suffix(`sgr${ctx.name}`, 17)}`,
    }),

    // IAM and KMS
    "aws:iam/role:Role": ({ name, inputs }) => {
      const roleName = autoName(name, inputs);
      return {
        id: roleName,
        name: roleName,
        arn: `arn:aws:iam::${AWS_ACCOUNT}:role/${roleName}`,
        uniqueId: `AROA${suffix(name, 17).toUpperCase()}`,
        createDate: "2026-01-01T00:00:00Z",
      };
    },
    "aws:iam/rolePolicy:RolePolicy": ({ name, inputs }) => ({
      id: `${String(inputs.role ?? "role")}:${autoName(name, inputs)}`,
      name: autoName(name, inputs),
    }),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ({ name, inputs }) => ({
      id: `${String(inputs.role ?? "role")}-${suffix(name, 26)}`,
    }),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ({ inputs }) => {
      const url = String(inputs.url ?? "").replace(/^https:\/\//, "");
      const providerArn = `arn:aws:iam::${AWS_ACCOUNT}:oidc-provider/${url}`;
      return { id: providerArn, arn: providerArn, thumbprintLists: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"] };
    },
    "aws:kms/key:Key": ({ name, region }) => {
      const keyId = uuid(`kms${name}`);
      return { id: keyId, keyId, arn: arn("kms", region, `key/${keyId}`) };
    },
    "aws:kms/alias:Alias": ({ name, inputs, region }) => {
      const alias = autoName(name, inputs);
      return { id: alias, arn: arn("kms", region, alias), targetKeyArn: arn("kms", region, `key/${String(inputs.targetKeyId ?? "")}`) };
    },
    "aws:cloudwatch/logGroup:LogGroup": ({ name, inputs, region }) => {
      const group = autoName(name, inputs);
      return { id: group, name: group, arn: arn("logs", region, `log-group:${group}`) };
    },

    // EKS
    "aws:eks/cluster:Cluster": ({ name, inputs, region }) => {
      const clusterName = autoName(name, inputs);
      const vpcConfig = (inputs.vpcConfig ?? {}) as Record<string, unknown>;
      return {
        id: clusterName,
        name: clusterName,
        arn: `arn:aws:eks:${region}:${AWS_ACCOUNT}:cluster/${clusterName}`,
        endpoint: `https://${suffix(name, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: {
          data: Buffer.from(`-----BEGIN CERTIFICATE-----\nMOCK${suffix(name)}\n-----END CERTIFICATE-----\n`).toString("base64"),
        },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${suffix(name, 32).toUpperCase()}` }] }],
        vpcConfig: {
          ...vpcConfig,
          clusterSecurityGroupId: `sg-${suffix(`eks-cluster-sg-${name}`, 17)}`,
          vpcId: `vpc-${suffix(`vpc${name}`, 17)}`,
        },
        platformVersion: "eks.12",
        version: inputs.version ?? "1.31",
        status: "ACTIVE",
      };
    },
    "aws:eks/nodeGroup:NodeGroup": ({ name, inputs, region }) => {
      const groupName = autoName(name, inputs, "nodeGroupName");
      const clusterName = String(inputs.clusterName ?? "cluster");
      return {
        id: `${clusterName}:${groupName}`,
        nodeGroupName: groupName,
        arn: `arn:aws:eks:${region}:${AWS_ACCOUNT}:nodegroup/${clusterName}/${groupName}/${uuid(name)}`,
        status: "ACTIVE",
        releaseVersion: "1.31.3-20250101",
        resources: [{ autoscalingGroups: [{ name: `eks-${groupName}-${uuid(`asg${name}`)}` }], remoteAccessSecurityGroupId: "" }],
      };
    },
    "aws:eks/accessEntry:AccessEntry": ({ name, inputs, region }) => ({
      id: `${String(inputs.clusterName ?? "cluster")}:${String(inputs.principalArn ?? name)}`,
      accessEntryArn: `arn:aws:eks:${region}:${AWS_ACCOUNT}:access-entry/${String(inputs.clusterName ?? "cluster")}/role/${AWS_ACCOUNT}/${name}/${uuid(name)}`,
    }),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ({ name, inputs }) => ({
      id: `${String(inputs.clusterName ?? "cluster")}#${String(inputs.principalArn ?? name)}#${String(inputs.policyArn ?? "")}`,
      associatedAt: "2026-01-01T00:00:00Z",
    }),
    "aws:eks/addon:Addon": ({ name, inputs, region }) => ({
      id: `${String(inputs.clusterName ?? "cluster")}:${String(inputs.addonName ?? name)}`,
      arn: arn("eks", region, `addon/${String(inputs.clusterName ?? "cluster")}/${String(inputs.addonName ?? name)}/${uuid(name)}`),
      addonVersion: str(inputs.addonVersion) ?? "v1.37.0-eksbuild.1",
    }),
    "aws:sqs/queue:Queue": ({ name, inputs, region }) => {
      const queue = autoName(name, inputs);
      return {
        id: `https://sqs.${region}.amazonaws.com/${AWS_ACCOUNT}/${queue}`,
        name: queue,
        arn: arn("sqs", region, queue),
        url: `https://sqs.${region}.amazonaws.com/${AWS_ACCOUNT}/${queue}`,
      };
    },
    "aws:sqs/queuePolicy:QueuePolicy": ({ inputs }) => ({ id: String(inputs.queueUrl ?? "") }),
    "aws:cloudwatch/eventRule:EventRule": ({ name, inputs, region }) => {
      const rule = autoName(name, inputs);
      return { id: rule, name: rule, arn: arn("events", region, `rule/${rule}`) };
    },
    "aws:cloudwatch/eventTarget:EventTarget": ({ name, inputs }) => ({
      id: `${String(inputs.rule ?? "rule")}-${suffix(name, 8)}`,
      targetId: suffix(name, 8),
    }),
    "aws:autoscaling/tag:Tag": ({ inputs }) => ({
      id: `${String(inputs.autoscalingGroupName ?? "asg")},${String((inputs.tag as { key?: string } | undefined)?.key ?? "")}`,
    }),

    // Stores
    "aws:elasticache/subnetGroup:SubnetGroup": ({ name, inputs, region }) => {
      const group = autoName(name, inputs, "name", true);
      return { id: group, name: group, arn: arn("elasticache", region, `subnetgroup:${group}`) };
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": ({ name, inputs, region }) => {
      const id = autoName(name, inputs, "replicationGroupId", true).slice(0, 40);
      const host = `${id}.${suffix(id, 6)}.${regionCode(region)}.cache.amazonaws.com`;
      const members = Number(inputs.numCacheClusters ?? 1);
      return {
        id,
        replicationGroupId: id,
        arn: arn("elasticache", region, `replicationgroup:${id}`),
        primaryEndpointAddress: `master.${host}`,
        readerEndpointAddress: `replica.${host}`,
        memberClusters: Array.from({ length: members }, (_, i) => `${id}-00${i + 1}`),
        clusterEnabled: false,
        engineVersionActual: `${String(inputs.engineVersion ?? "7.1")}.0`,
      };
    },
    "aws:dynamodb/table:Table": ({ name, inputs, region }) => {
      const table = autoName(name, inputs);
      return { id: table, name: table, arn: arn("dynamodb", region, `table/${table}`) };
    },
    "aws:redshiftserverless/namespace:Namespace": ({ name, inputs, region }) => {
      const ns = String(inputs.namespaceName ?? name);
      const namespaceId = uuid(`ns${name}`);
      return {
        id: ns,
        namespaceId,
        arn: arn("redshift-serverless", region, `namespace/${namespaceId}`),
        adminPasswordSecretArn: arn(
          "secretsmanager",
          region,
          `secret:redshift!${ns}-${String(inputs.adminUsername ?? "admin")}-${suffix(ns, 6)}`,
        ),
      };
    },
    "aws:redshiftserverless/workgroup:Workgroup": ({ name, inputs, region }) => {
      const wg = String(inputs.workgroupName ?? name);
      const workgroupId = uuid(`wg${name}`);
      return {
        id: wg,
        workgroupId,
        arn: arn("redshift-serverless", region, `workgroup/${workgroupId}`),
        endpoints: [
          {
            address: `${wg}.${AWS_ACCOUNT}.${region}.redshift-serverless.amazonaws.com`,
            port: Number(inputs.port ?? 5439),
            vpcEndpoints: [],
          },
        ],
      };
    },
    "aws:s3/bucket:Bucket": ({ name, inputs, region }) => {
      const bucket = str(inputs.bucket) ?? (str(inputs.bucketPrefix) ? `${String(inputs.bucketPrefix)}${suffix(name, 26)}` : name);
      return {
        id: bucket,
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        hostedZoneId: "Z3AQBSTGFYJSTF",
        region,
      };
    },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": bucketPart,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": bucketPart,
    "aws:s3/bucketVersioning:BucketVersioning": bucketPart,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": bucketPart,
    "aws:s3/bucketPolicy:BucketPolicy": bucketPart,
    "aws:rds/subnetGroup:SubnetGroup": ({ name, inputs, region }) => {
      const group = autoName(name, inputs, "name", true);
      return { id: group, name: group, arn: arn("rds", region, `subgrp:${group}`) };
    },
    "aws:rds/parameterGroup:ParameterGroup": ({ name, inputs, region }) => {
      const group = autoName(name, inputs, "name", true);
      return { id: group, name: group, arn: arn("rds", region, `pg:${group}`) };
    },
    "aws:rds/instance:Instance": ({ name, inputs, region }) => {
      const identifier = autoName(name, inputs, "identifier", true);
      const address = `${identifier}.${suffix(`rds${name}`, 12)}.${region}.rds.amazonaws.com`;
      const port = Number(inputs.port ?? 5432);
      return {
        id: identifier,
        identifier,
        address,
        endpoint: `${address}:${port}`,
        port,
        arn: arn("rds", region, `db:${identifier}`),
        resourceId: `db-${suffix(`rid${name}`, 26).toUpperCase()}`,
        hostedZoneId: "Z2R2ITUGPM61AM",
        status: "available",
      };
    },
  },
  calls: {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (_i, { region }) => ({
      names: ["a", "b", "c", "d"].map((z) => `${region}${z}`),
      zoneIds: ["az1", "az2", "az3", "az4"].map((z) => `${regionCode(region)}-${z}`),
      id: region,
    }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({
      accountId: AWS_ACCOUNT,
      arn: `arn:aws:iam::${AWS_ACCOUNT}:user/ci`,
      userId: "AIDAMOCK",
      id: AWS_ACCOUNT,
    }),
    "aws:index/getRegion:getRegion": (_i, { region }) => ({ name: region, region, id: region, description: region }),
    "aws:index/getPartition:getPartition": () => ({
      partition: "aws",
      dnsSuffix: "amazonaws.com",
      reverseDnsPrefix: "com.amazonaws",
      id: "aws",
    }),
  },
};
