import { type Props, resource } from "./fixtures/resource";
import { describeRealRules } from "./fixtures/real-rules";

// aws-prod: IAM (identity, trust, resource policies), KMS, the tracking RDS, Karpenter's node
// classes and the data stores' security groups, each broken once on the real output.
const named = (name: string) => (r: { name: string }) => r.name === name;
const addStatement = (statement: Props) => (r: Props) => {
  const doc = JSON.parse(r.policy);
  doc.Statement.push(statement);
  r.policy = JSON.stringify(doc);
};
const editTrust = (fn: (statement: Props) => void) => (r: Props) => {
  const doc = JSON.parse(r.assumeRolePolicy);
  fn(doc.Statement[0]);
  r.assumeRolePolicy = JSON.stringify(doc);
};
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const KEY = "aws:kms/key:Key";
const RDS = "aws:rds/instance:Instance";

describeRealRules(
  "aws-prod",
  [
    "aws-iam-least-privilege",
    "aws-iam-role-trust-scoped",
    "aws-resource-policies-not-public",
    "kms-keys-rotated",
    "kms-key-policies-scoped",
    "rds-iam-auth-and-audit-logs",
    "node-metadata-hardened",
    "network-no-public-admin-ports",
    "network-no-unrestricted-egress",
  ],
  [
    {
      policy: "aws-iam-least-privilege",
      change: 'a workload policy allows Action "*"',
      type: ROLE_POLICY,
      match: named("mlops-aws-irsa-serving"),
      edit: addStatement({ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }),
      names: 'IAM policy "mlops-aws-irsa-serving": statement Admin allows Action "*"',
      fix: "list the actions",
    },
    {
      policy: "aws-iam-least-privilege",
      change: "a workload policy allows s3:* on every resource",
      type: ROLE_POLICY,
      match: named("mlops-aws-irsa-tracking"),
      edit: addStatement({
        Sid: "AllS3",
        Effect: "Allow",
        Action: ["s3:*"],
        Resource: "*",
        Condition: { Bool: { "aws:SecureTransport": "true" } },
      }),
      names: "allows s3:* on every resource",
      fix: "name the resources' ARNs",
    },
    {
      policy: "aws-iam-least-privilege",
      change: "a workload policy allows S3:* (IAM matches actions case-insensitively) on every resource",
      type: ROLE_POLICY,
      match: named("mlops-aws-irsa-tracking"),
      edit: addStatement({
        Sid: "AllS3Upper",
        Effect: "Allow",
        Action: ["S3:*"],
        Resource: "*",
        Condition: { Bool: { "aws:SecureTransport": "true" } },
      }),
      names: "allows S3:* on every resource",
      fix: "name the resources' ARNs",
    },
    {
      policy: "aws-iam-least-privilege",
      change: "a workload writes objects on Resource * without a condition",
      type: ROLE_POLICY,
      match: named("mlops-aws-irsa-drift"),
      edit: addStatement({ Sid: "Anywhere", Effect: "Allow", Action: ["s3:PutObject", "s3:ListBucket"], Resource: "*" }),
      names: 'statement Anywhere allows s3:PutObject on Resource "*" with no Condition',
      fix: "add a Condition",
    },
    {
      policy: "aws-iam-least-privilege",
      change: "a policy allows NotAction",
      type: ROLE_POLICY,
      match: named("mlops-aws-irsa-features"),
      edit: addStatement({ Sid: "AllBut", Effect: "Allow", NotAction: "iam:*", Resource: "*" }),
      names: "NotAction [iam:*]",
      fix: "list the actions granted",
    },
    {
      policy: "aws-iam-least-privilege",
      change: "the EKS role gets AdministratorAccess attached",
      type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
      match: named("mlops-aws-eks-cluster-policy"),
      edit: (r) => {
        r.policyArn = "arn:aws:iam::aws:policy/AdministratorAccess";
      },
      names: 'IAM attachment "mlops-aws-eks-cluster-policy": attaches arn:aws:iam::aws:policy/AdministratorAccess',
      fix: "attach a policy with the actions the role needs",
    },
    {
      policy: "aws-iam-role-trust-scoped",
      change: "a workload role trusts any AWS principal",
      type: "aws:iam/role:Role",
      match: named("mlops-aws-irsa-features"),
      edit: editTrust((s) => {
        s.Principal = { AWS: "*" };
        s.Action = "sts:AssumeRole";
        delete s.Condition;
      }),
      names: 'IAM role "mlops-aws-irsa-features": trust statement #0 lets any AWS principal',
      fix: "name the service",
    },
    {
      policy: "aws-iam-role-trust-scoped",
      change: "an IRSA role's trust loses its :sub condition",
      type: "aws:iam/role:Role",
      match: named("mlops-aws-irsa-serving"),
      edit: editTrust((s) => {
        for (const key of Object.keys(s.Condition.StringEquals)) if (key.endsWith(":sub")) delete s.Condition.StringEquals[key];
      }),
      names: "every identity of the OIDC provider",
      fix: '"system:serviceaccount:<namespace>:<name>"',
    },
    {
      policy: "aws-iam-role-trust-scoped",
      change: "an IRSA role's trust matches every ServiceAccount of a namespace",
      type: "aws:iam/role:Role",
      match: named("mlops-aws-irsa-drift"),
      edit: editTrust((s) => {
        const eq = s.Condition.StringEquals;
        const sub = Object.keys(eq).find((k) => k.endsWith(":sub")) as string;
        s.Condition.StringLike = { [sub]: "system:serviceaccount:mlops:*" };
        delete eq[sub];
      }),
      names: "matches subjects by wildcard (system:serviceaccount:mlops:*)",
      fix: "StringEquals",
    },
    {
      policy: "aws-resource-policies-not-public",
      change: "the artifact bucket policy lets everyone read objects",
      type: "aws:s3/bucketPolicy:BucketPolicy",
      edit: addStatement({ Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }),
      names: 'resource policy "mlops-aws-artifacts-policy": statement PublicRead allows s3:GetObject to everyone',
      fix: "name the principals",
    },
    {
      policy: "aws-resource-policies-not-public",
      change: "the interruption queue lets any AWS principal send",
      type: "aws:sqs/queuePolicy:QueuePolicy",
      edit: addStatement({ Sid: "Anyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "sqs:SendMessage", Resource: "*" }),
      names: "statement Anyone allows sqs:SendMessage",
      fix: "aws:SourceArn",
    },
    {
      policy: "kms-keys-rotated",
      change: "the artifact key stops rotating",
      type: KEY,
      match: named("mlops-aws-artifacts-key"),
      edit: (r) => {
        r.enableKeyRotation = false;
      },
      names: 'KMS key "mlops-aws-artifacts-key": does not rotate',
      fix: "enableKeyRotation: true",
    },
    {
      policy: "kms-key-policies-scoped",
      change: "the tracking database key has no key policy",
      type: KEY,
      match: named("mlops-aws-tracking-db-key"),
      edit: (r) => {
        delete r.policy;
      },
      names: 'KMS key "mlops-aws-tracking-db-key": has no key policy',
      fix: "account-through-IAM statement",
    },
    {
      policy: "kms-key-policies-scoped",
      change: "the online store key lets everyone decrypt",
      type: KEY,
      match: named("mlops-aws-online-key"),
      edit: addStatement({ Sid: "Everyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*" }),
      names: 'key policy statement Everyone allows kms:Decrypt to Principal "*"',
      fix: "kms:CallerAccount",
    },
    {
      policy: "rds-iam-auth-and-audit-logs",
      change: "the tracking database turns IAM authentication off",
      type: RDS,
      edit: (r) => {
        r.iamDatabaseAuthenticationEnabled = false;
      },
      names: 'RDS instance "mlops-aws-tracking-db": IAM authentication is off',
      fix: "iamDatabaseAuthenticationEnabled: true",
    },
    {
      policy: "rds-iam-auth-and-audit-logs",
      change: "the tracking database stops exporting its PostgreSQL log",
      type: RDS,
      edit: (r) => {
        r.enabledCloudwatchLogsExports = ["upgrade"];
      },
      names: "does not export postgresql logs",
      fix: '["upgrade", "postgresql"]',
    },
    {
      policy: "rds-iam-auth-and-audit-logs",
      change: "the parameter group stops forcing TLS",
      type: "aws:rds/parameterGroup:ParameterGroup",
      edit: (r) => {
        r.parameters = r.parameters.filter((p: Props) => p.name !== "rds.force_ssl");
      },
      names: "does not set rds.force_ssl = 1",
      fix: '"rds.force_ssl", value: "1"',
    },
    {
      policy: "node-metadata-hardened",
      change: "a Karpenter node class makes IMDSv2 optional",
      type: "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
      edit: (r) => {
        r.spec.metadataOptions.httpTokens = "optional";
        r.spec.metadataOptions.httpPutResponseHopLimit = 2;
      },
      names: 'EC2NodeClass "gpu-l4": instance metadata: httpTokens is "optional", hop limit 2',
      fix: 'httpTokens: "required"',
    },
    {
      // As many launch templates as node classes: the rule applies while any of the three kinds is there.
      policy: "node-metadata-hardened",
      change: "two node-group launch templates join the two node classes, one allowing IMDSv1",
      add: () => [
        resource("aws:ec2/launchTemplate:LaunchTemplate", "ng-cpu", {
          metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        }),
        resource("aws:ec2/launchTemplate:LaunchTemplate", "ng-gpu", {
          metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 },
        }),
      ],
      names: 'launch template "ng-gpu": instance metadata: httpTokens is "optional"',
      fix: 'httpTokens: "required"',
    },
    {
      policy: "network-no-public-admin-ports",
      change: "the Redis group admits the internet",
      type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      match: named("mlops-aws-online-redis-from-nodes"),
      edit: (r) => {
        delete r.referencedSecurityGroupId;
        r.cidrIpv4 = "0.0.0.0/0";
      },
      names: 'security group rule "mlops-aws-online-redis-from-nodes": opens 6379 (Redis) to 0.0.0.0/0',
      fix: "referencedSecurityGroupId",
    },
    {
      policy: "network-no-public-admin-ports",
      change: "a group gets an inline SSH-to-RDP range open to ::/0",
      type: "aws:ec2/securityGroup:SecurityGroup",
      match: named("mlops-aws-tracking-db-sg"),
      edit: (r) => {
        r.ingress = [{ protocol: "tcp", fromPort: 20, toPort: 3389, ipv6CidrBlocks: ["::/0"] }];
      },
      names: "22 (SSH)",
      fix: "SSM Session Manager",
    },
    {
      policy: "network-no-unrestricted-egress",
      change: "the Redshift group sends everything anywhere",
      type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
      edit: (r) => {
        delete r.prefixListId;
        r.ipProtocol = "-1";
        r.cidrIpv4 = "0.0.0.0/0";
      },
      names: 'security group rule "mlops-aws-offline-https-out-0": allows egress of everything to 0.0.0.0/0',
      fix: "prefixListId",
    },
    {
      policy: "network-no-unrestricted-egress",
      change: "the VPC's default security group gets rules back",
      type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
      edit: (r) => {
        r.egress = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }];
      },
      names: 'default security group "mlops-aws-net-default-sg": has 1 rule(s)',
      fix: "CKV2_AWS_12",
    },
  ],
);
