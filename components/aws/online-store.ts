import * as pulumi from "@pulumi/pulumi";
import type { Catalog, StackSpec } from "../../definition";
import { DynamoStore } from "./dynamodb";
import { RedisStore } from "./elasticache";
import { encryptionKey } from "./kms";

export interface OnlineStoreArgs {
  stack: StackSpec;
  catalog: Catalog;
  vpcId: pulumi.Input<string>;
  /** Private subnets (Redis only). */
  subnetIds: pulumi.Input<string>[];
  /** The cluster's node security group, the only one admitted (Redis only). */
  nodeSecurityGroupId: pulumi.Input<string>;
}

/**
 * The online store the stack asks for: ElastiCache Redis or DynamoDB tables, both encrypted with
 * the store's own KMS key. The features service's IAM grants come from `tableArns` / `kmsKeyArn`.
 */
export class OnlineStore extends pulumi.ComponentResource {
  readonly kind: "redis" | "dynamodb";
  readonly url: pulumi.Output<string>;
  /** The Redis AUTH token (secret); absent for DynamoDB, which is reached through IRSA. */
  readonly password?: pulumi.Output<string>;
  /** DynamoDB table ARNs (empty for Redis). */
  readonly tableArns: pulumi.Output<string[]>;
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: OnlineStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:OnlineStore", name, {}, opts);
    const { stack } = args;
    const online = stack.onlineStore;
    const key = encryptionKey(name, stack, "online feature store", this);
    this.kind = online.kind;
    this.kmsKeyArn = key.arn;
    if (online.kind === "redis") {
      const redis = new RedisStore(
        `${name}-redis`,
        { stack, online, vpcId: args.vpcId, subnetIds: args.subnetIds, nodeSecurityGroupId: args.nodeSecurityGroupId, kmsKeyArn: key.arn },
        { parent: this },
      );
      this.url = redis.url;
      this.password = redis.password;
      this.tableArns = pulumi.output([]);
    } else {
      const dynamo = new DynamoStore(`${name}-dynamodb`, { stack, catalog: args.catalog, kmsKeyArn: key.arn }, { parent: this });
      this.url = dynamo.url;
      this.tableArns = dynamo.tableArns;
    }
    this.registerOutputs({ kind: this.kind, url: this.url, password: this.password, tableArns: this.tableArns, kmsKeyArn: this.kmsKeyArn });
  }
}
