/**
 * Pulumi's bridged AWS and GCP resource types and the Terraform resource types they wrap (the
 * provider's `resources` map: pulumi-aws and pulumi-gcp are built from the Terraform providers,
 * so each token names exactly one Terraform resource). Only the types this platform creates are
 * listed; a new one makes the scan fail with the row to add, so no cloud resource escapes Checkov.
 */
export const terraformTypes: Readonly<Record<string, string>> = {
  "aws:autoscaling/tag:Tag": "aws_autoscaling_group_tag",
  "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
  "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
  "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
  "aws:dynamodb/table:Table": "aws_dynamodb_table",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
  "aws:ec2/eip:Eip": "aws_eip",
  "aws:ec2/flowLog:FlowLog": "aws_flow_log",
  "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
  "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
  "aws:ec2/route:Route": "aws_route",
  "aws:ec2/routeTable:RouteTable": "aws_route_table",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
  "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
  "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
  "aws:ec2/subnet:Subnet": "aws_subnet",
  "aws:ec2/vpc:Vpc": "aws_vpc",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
  "aws:eks/cluster:Cluster": "aws_eks_cluster",
  "aws:eks/nodeGroup:NodeGroup": "aws_eks_node_group",
  "aws:eks/addon:Addon": "aws_eks_addon",
  "aws:eks/accessEntry:AccessEntry": "aws_eks_access_entry",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": "aws_eks_pod_identity_association",
  "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
  "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
  "aws:elasticache/userGroup:UserGroup": "aws_elasticache_user_group",
  "aws:elasticache/user:User": "aws_elasticache_user",
  "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
  "aws:iam/policy:Policy": "aws_iam_policy",
  "aws:iam/role:Role": "aws_iam_role",
  "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
  "aws:kms/alias:Alias": "aws_kms_alias",
  "aws:kms/key:Key": "aws_kms_key",
  "aws:kms/keyPolicy:KeyPolicy": "aws_kms_key_policy",
  "aws:rds/instance:Instance": "aws_db_instance",
  "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
  "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
  "aws:redshift/cluster:Cluster": "aws_redshift_cluster",
  "aws:redshift/subnetGroup:SubnetGroup": "aws_redshift_subnet_group",
  "aws:redshiftserverless/namespace:Namespace": "aws_redshiftserverless_namespace",
  "aws:redshiftserverless/workgroup:Workgroup": "aws_redshiftserverless_workgroup",
  "aws:s3/bucket:Bucket": "aws_s3_bucket",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
  "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
  "aws:s3/bucketNotification:BucketNotification": "aws_s3_bucket_notification",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
  "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
    "aws_s3_bucket_server_side_encryption_configuration",
  "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
  "aws:sqs/queue:Queue": "aws_sqs_queue",
  "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
  "gcp:bigquery/dataset:Dataset": "google_bigquery_dataset",
  "gcp:bigquery/datasetIamMember:DatasetIamMember": "google_bigquery_dataset_iam_member",
  "gcp:bigquery/table:Table": "google_bigquery_table",
  "gcp:compute/firewall:Firewall": "google_compute_firewall",
  "gcp:compute/globalAddress:GlobalAddress": "google_compute_global_address",
  "gcp:compute/network:Network": "google_compute_network",
  "gcp:compute/router:Router": "google_compute_router",
  "gcp:compute/routerNat:RouterNat": "google_compute_router_nat",
  "gcp:compute/subnetwork:Subnetwork": "google_compute_subnetwork",
  "gcp:container/cluster:Cluster": "google_container_cluster",
  "gcp:container/nodePool:NodePool": "google_container_node_pool",
  "gcp:kms/cryptoKey:CryptoKey": "google_kms_crypto_key",
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": "google_kms_crypto_key_iam_member",
  "gcp:kms/keyRing:KeyRing": "google_kms_key_ring",
  "gcp:logging/projectBucketConfig:ProjectBucketConfig": "google_logging_project_bucket_config",
  "gcp:networkconnectivity/serviceConnectionPolicy:ServiceConnectionPolicy": "google_network_connectivity_service_connection_policy",
  "gcp:projects/iAMMember:IAMMember": "google_project_iam_member",
  "gcp:projects/service:Service": "google_project_service",
  "gcp:projects/serviceIdentity:ServiceIdentity": "google_project_service_identity",
  "gcp:redis/cluster:Cluster": "google_redis_cluster",
  "gcp:redis/instance:Instance": "google_redis_instance",
  "gcp:serviceaccount/account:Account": "google_service_account",
  "gcp:serviceaccount/iAMMember:IAMMember": "google_service_account_iam_member",
  "gcp:servicenetworking/connection:Connection": "google_service_networking_connection",
  "gcp:sql/database:Database": "google_sql_database",
  "gcp:sql/databaseInstance:DatabaseInstance": "google_sql_database_instance",
  "gcp:sql/user:User": "google_sql_user",
  "gcp:storage/bucket:Bucket": "google_storage_bucket",
  "gcp:storage/bucketIAMMember:BucketIAMMember": "google_storage_bucket_iam_member",
};

/** Whether a type is a cloud resource of the bridged providers (the Terraform plan carries those). */
export function isBridgedCloudType(type: string): boolean {
  return type.startsWith("aws:") || type.startsWith("gcp:");
}

/**
 * Attributes that are Terraform maps (string keys chosen by the user), not nested blocks: they
 * stay objects and their keys are not renamed.
 */
export const mapAttributes: ReadonlySet<string> = new Set([
  "tags",
  "tags_all",
  "labels",
  "resource_labels",
  "user_labels",
  "metadata",
  "parameters",
  "resource_manager_tags",
  "node_selector",
]);

/** Attributes whose Terraform value is a JSON document string (Pulumi also accepts an object). */
export const jsonStringAttributes: ReadonlySet<string> = new Set(["policy", "assume_role_policy", "access_policy_json"]);

/**
 * Nested list blocks Pulumi did not pluralise (their Terraform names already end in "s"); every
 * other list block Pulumi renamed from a singular Terraform name (`rule` -> `rules`).
 */
export const pluralBlockNames: ReadonlySet<string> = new Set([
  "database_flags",
  "authorized_networks",
  "psc_configs",
  "cidr_blocks",
  "resource_limits",
  "ingress",
  "egress",
  "access",
  "options",
  "settings",
]);
