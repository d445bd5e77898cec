import { AWS_ACCOUNT, type MockTable, suffix } from "./types";

/**
 * Realistic AWS outputs and data-source results. Extend with every AWS type and invoke the
 * components use; an invoke missing here fails the plan (no silent pass).
 */
export const aws: MockTable = {
  outputs: {
    "aws:eks/cluster:Cluster": ({ name, region }) => ({
      arn: `arn:aws:eks:${region}:${AWS_ACCOUNT}:cluster/${name}`,
      endpoint: `https://${suffix(name, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
      certificateAuthority: { data: Buffer.from(`-----BEGIN CERTIFICATE-----\nMOCK${suffix(name)}\n-----END CERTIFICATE-----\n`).toString("base64") },
      identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${suffix(name, 32).toUpperCase()}` }] }],
      status: "ACTIVE",
    }),
  },
  calls: {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (_i, { region }) => ({
      names: ["a", "b", "c", "d"].map((z) => `${region}${z}`),
      zoneIds: ["az1", "az2", "az3", "az4"].map((z) => `use1-${z}`),
      id: region,
    }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: AWS_ACCOUNT, arn: `arn:aws:iam::${AWS_ACCOUNT}:user/ci`, userId: "AIDAMOCK", id: AWS_ACCOUNT }),
    "aws:index/getRegion:getRegion": (_i, { region }) => ({ name: region, region, id: region, description: region }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
  },
};
