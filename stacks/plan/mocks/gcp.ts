import { type MockTable, suffix } from "./types";

/** Pulumi auto-naming: the logical name plus a random-looking 7-hex suffix, unless a name is given. */
function autoName(name: string, inputs: Record<string, unknown>, max = 63): string {
  return String(inputs.name ?? `${name}-${suffix(name, 7)}`).slice(0, max);
}

/** A stable private address inside a base range, e.g. ip("10.120", name) -> 10.120.x.y. */
function ip(base: string, name: string): string {
  return `${base}.${parseInt(suffix(name, 2), 16) % 250}.${(parseInt(suffix(`${name}y`, 2), 16) % 250) + 2}`;
}

const str = (v: unknown, fallback: string) => (typeof v === "string" && v !== "" ? v : fallback);
const PROJECT_NUMBER = "123456789012";

function pem(name: string): string {
  return `-----BEGIN CERTIFICATE-----\nMOCK${suffix(name, 40)}\n-----END CERTIFICATE-----\n`;
}

/** Realistic GCP outputs and data-source results; extend with every type and invoke used. */
export const gcp: MockTable = {
  outputs: {
    "gcp:container/cluster:Cluster": ({ name, inputs, region, project }) => {
      const clusterName = autoName(name, inputs, 40);
      const location = str(inputs.location, region);
      const p = str(inputs.project, project);
      const privateCfg = (inputs.privateClusterConfig ?? {}) as Record<string, unknown>;
      const publicIp = `34.${(parseInt(suffix(name, 2), 16) % 200) + 20}.10.${(parseInt(suffix(`${name}x`, 2), 16) % 250) + 1}`;
      // The control plane's internal address is the second of its /28.
      const privateIp = str(privateCfg.masterIpv4CidrBlock, "172.16.0.0/28").replace(/\.\d+\/\d+$/, ".2");
      return {
        id: `projects/${p}/locations/${location}/clusters/${clusterName}`,
        name: clusterName,
        // With a private endpoint GKE reports the control plane's internal address.
        endpoint: privateCfg.enablePrivateEndpoint ? privateIp : publicIp,
        masterAuth: { clusterCaCertificate: Buffer.from(pem(name)).toString("base64") },
        location,
        selfLink: `https://container.googleapis.com/v1/projects/${p}/locations/${location}/clusters/${clusterName}`,
        masterVersion: `${str(inputs.minMasterVersion, "1.31")}.5-gke.1169000`,
        labelFingerprint: suffix(`${name}lf`, 8),
      };
    },
    "gcp:container/nodePool:NodePool": ({ name, inputs }) => {
      const poolName = autoName(name, inputs, 40);
      const cluster = str(inputs.cluster, "projects/p/locations/r/clusters/c");
      const zones = Array.isArray(inputs.nodeLocations) ? (inputs.nodeLocations as string[]) : [];
      const project = cluster.split("/")[1] ?? "p";
      return {
        id: `${cluster}/nodePools/${poolName}`,
        name: poolName,
        instanceGroupUrls: zones.map(
          (z) =>
            `https://www.googleapis.com/compute/v1/projects/${project}/zones/${z}/instanceGroupManagers/gke-${poolName}-${suffix(name + z, 8)}-grp`,
        ),
        version: "1.31.5-gke.1169000",
      };
    },
    "gcp:compute/network:Network": ({ name, inputs, project }) => {
      const n = autoName(name, inputs);
      const p = str(inputs.project, project);
      return {
        id: `projects/${p}/global/networks/${n}`,
        name: n,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${p}/global/networks/${n}`,
        numericId: BigInt(`0x${suffix(name, 12)}`).toString(),
      };
    },
    "gcp:compute/subnetwork:Subnetwork": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs);
      const p = str(inputs.project, project);
      const r = str(inputs.region, region);
      const cidr = str(inputs.ipCidrRange, "10.0.0.0/20");
      return {
        id: `projects/${p}/regions/${r}/subnetworks/${n}`,
        name: n,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${p}/regions/${r}/subnetworks/${n}`,
        gatewayAddress: cidr.replace(/\.\d+\/\d+$/, ".1"),
      };
    },
    "gcp:compute/router:Router": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs);
      const p = str(inputs.project, project);
      const r = str(inputs.region, region);
      return {
        id: `projects/${p}/regions/${r}/routers/${n}`,
        name: n,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${p}/regions/${r}/routers/${n}`,
      };
    },
    "gcp:compute/routerNat:RouterNat": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs);
      return { id: `${str(inputs.project, project)}/${str(inputs.region, region)}/${str(inputs.router, "router")}/${n}`, name: n };
    },
    "gcp:compute/globalAddress:GlobalAddress": ({ name, inputs, project }) => {
      const n = autoName(name, inputs);
      const p = str(inputs.project, project);
      return {
        id: `projects/${p}/global/addresses/${n}`,
        name: n,
        address: `10.${100 + (parseInt(suffix(name, 2), 16) % 50)}.0.0`,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${p}/global/addresses/${n}`,
      };
    },
    "gcp:compute/firewall:Firewall": ({ name, inputs, project }) => {
      const n = autoName(name, inputs);
      const p = str(inputs.project, project);
      return {
        id: `projects/${p}/global/firewalls/${n}`,
        name: n,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${p}/global/firewalls/${n}`,
      };
    },
    "gcp:projects/service:Service": ({ inputs, project }) => ({
      id: `${str(inputs.project, project)}/${str(inputs.service, "compute.googleapis.com")}`,
    }),
    "gcp:servicenetworking/connection:Connection": ({ inputs }) => ({
      id: `${str(inputs.network, "network")}:${str(inputs.service, "servicenetworking.googleapis.com")}`,
      peering: "servicenetworking-googleapis-com",
    }),
    "gcp:kms/keyRing:KeyRing": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs);
      return { id: `projects/${str(inputs.project, project)}/locations/${str(inputs.location, region)}/keyRings/${n}`, name: n };
    },
    "gcp:kms/cryptoKey:CryptoKey": ({ name, inputs }) => {
      const n = autoName(name, inputs);
      return {
        id: `${str(inputs.keyRing, "projects/p/locations/l/keyRings/r")}/cryptoKeys/${n}`,
        name: n,
        primaries: [{ name: `${n}/cryptoKeyVersions/1`, state: "ENABLED" }],
      };
    },
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": ({ name }) => ({ etag: `BwY${suffix(name, 9)}=` }),
    "gcp:serviceaccount/account:Account": ({ inputs, project }) => {
      const p = str(inputs.project, project);
      const email = `${str(inputs.accountId, "sa")}@${p}.iam.gserviceaccount.com`;
      return {
        id: `projects/${p}/serviceAccounts/${email}`,
        name: `projects/${p}/serviceAccounts/${email}`,
        email,
        member: `serviceAccount:${email}`,
        uniqueId: `1${BigInt(`0x${suffix(email, 14)}`)
          .toString()
          .slice(0, 20)}`,
      };
    },
    "gcp:serviceaccount/iAMMember:IAMMember": ({ name }) => ({ etag: `BwY${suffix(name, 9)}=` }),
    "gcp:projects/iAMMember:IAMMember": ({ name }) => ({ etag: `BwY${suffix(name, 9)}=` }),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ({ name }) => ({ etag: `CAE${suffix(name, 4)}=` }),
    "gcp:bigquery/datasetIamMember:DatasetIamMember": ({ name }) => ({ etag: `BwY${suffix(name, 9)}=` }),
    "gcp:storage/bucket:Bucket": ({ name, inputs, project }) => {
      const n = autoName(name, inputs).toLowerCase();
      return {
        id: n,
        name: n,
        url: `gs://${n}`,
        selfLink: `https://www.googleapis.com/storage/v1/b/${n}`,
        project: str(inputs.project, project),
      };
    },
    "gcp:redis/instance:Instance": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs, 40);
      const tls = inputs.transitEncryptionMode === "SERVER_AUTHENTICATION";
      return {
        id: `projects/${str(inputs.project, project)}/locations/${str(inputs.region, region)}/instances/${n}`,
        name: n,
        host: ip("10.120", name),
        // Memorystore serves TLS on 6378 and plain Redis on 6379.
        port: tls ? 6378 : 6379,
        authString: inputs.authEnabled
          ? `${suffix(`${name}auth`, 8)}-${suffix(`${name}auth2`, 4)}-${suffix(`${name}auth3`, 4)}-${suffix(`${name}auth4`, 12)}`
          : "",
        currentLocationId: `${str(inputs.region, region)}-a`,
        serverCaCerts: tls ? [{ cert: pem(`${name}ca`), serialNumber: "0", sha1Fingerprint: suffix(`${name}sha`, 40) }] : [],
        persistenceIamIdentity: `serviceAccount:service-${PROJECT_NUMBER}@cloud-redis.iam.gserviceaccount.com`,
      };
    },
    "gcp:redis/cluster:Cluster": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs, 40);
      const r = str(inputs.region, region);
      const p = str(inputs.project, project);
      const tls = inputs.transitEncryptionMode === "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION";
      const network = (Array.isArray(inputs.pscConfigs) ? (inputs.pscConfigs[0] as { network?: string }) : {})?.network;
      return {
        id: `projects/${p}/locations/${r}/clusters/${n}`,
        name: n,
        // One discovery endpoint per network: a PSC address in the policy's subnetwork, port 6379.
        discoveryEndpoints: [{ address: `10.40.0.${(parseInt(suffix(name, 2), 16) % 200) + 10}`, port: 6379, pscConfig: { network } }],
        managedServerCas: tls ? [{ caCerts: [{ certificates: [pem(`${name}ca`), pem(`${name}root`)] }] }] : [],
        state: "ACTIVE",
        sizeGb: 0,
        uid: suffix(`${name}uid`, 32),
      };
    },
    "gcp:networkconnectivity/serviceConnectionPolicy:ServiceConnectionPolicy": ({ name, inputs, project }) => {
      const n = autoName(name, inputs);
      return {
        id: `projects/${str(inputs.project, project)}/locations/${str(inputs.location, "r")}/serviceConnectionPolicies/${n}`,
        name: n,
        etag: suffix(`${name}etag`, 16),
        infrastructure: "PSC",
      };
    },
    "gcp:bigquery/dataset:Dataset": ({ inputs, project }) => {
      const p = str(inputs.project, project);
      const d = str(inputs.datasetId, "dataset");
      return {
        id: `projects/${p}/datasets/${d}`,
        selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${p}/datasets/${d}`,
        etag: suffix(d, 22),
        creationTime: 1763856000000,
      };
    },
    "gcp:bigquery/table:Table": ({ inputs, project }) => {
      const p = str(inputs.project, project);
      const d = str(inputs.datasetId, "dataset");
      const t = str(inputs.tableId, "table");
      return {
        id: `projects/${p}/datasets/${d}/tables/${t}`,
        selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${p}/datasets/${d}/tables/${t}`,
        type: "TABLE",
        numRows: 0,
        creationTime: 1763856000000,
      };
    },
    "gcp:sql/databaseInstance:DatabaseInstance": ({ name, inputs, project, region }) => {
      const n = autoName(name, inputs, 80);
      const p = str(inputs.project, project);
      const r = str(inputs.region, region);
      const settings = (inputs.settings ?? {}) as { ipConfiguration?: { ipv4Enabled?: boolean } };
      const privateIp = ip("10.121", name);
      const publicIp = `35.${(parseInt(suffix(name, 2), 16) % 200) + 20}.4.${(parseInt(suffix(`${name}p`, 2), 16) % 250) + 1}`;
      const ipAddresses = [{ ipAddress: privateIp, type: "PRIVATE" }];
      if (settings.ipConfiguration?.ipv4Enabled !== false) ipAddresses.push({ ipAddress: publicIp, type: "PRIMARY" });
      return {
        id: n,
        name: n,
        connectionName: `${p}:${r}:${n}`,
        privateIpAddress: privateIp,
        publicIpAddress: settings.ipConfiguration?.ipv4Enabled === false ? "" : publicIp,
        firstIpAddress: ipAddresses[0]?.ipAddress,
        ipAddresses,
        selfLink: `https://sqladmin.googleapis.com/sql/v1beta4/projects/${p}/instances/${n}`,
        serviceAccountEmailAddress: `p${PROJECT_NUMBER}-${suffix(name, 6)}@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
        serverCaCerts: [
          {
            cert: pem(`${name}ca`),
            commonName: `C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA`,
            sha1Fingerprint: suffix(`${name}sha`, 40),
          },
        ],
      };
    },
    "gcp:sql/database:Database": ({ name, inputs, project }) => ({
      id: `projects/${str(inputs.project, project)}/instances/${str(inputs.instance, "instance")}/databases/${autoName(name, inputs)}`,
      name: autoName(name, inputs),
    }),
    "gcp:sql/user:User": ({ name, inputs }) => ({
      id: `${autoName(name, inputs)}//${str(inputs.instance, "instance")}`,
      name: autoName(name, inputs),
    }),
  },
  calls: {
    "gcp:organizations/getProject:getProject": (inputs, { project }) => {
      const id = str(inputs.projectId, project);
      return { projectId: id, number: PROJECT_NUMBER, name: id, id: `projects/${id}`, labels: {} };
    },
    "gcp:compute/getZones:getZones": (inputs, { region }) => ({
      names: ["c", "a", "b", "f"].map((z) => `${str(inputs.region, region)}-${z}`),
      id: str(inputs.region, region),
      project: inputs.project,
    }),
    "gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount": (inputs, { project }) => {
      const email = `bq-${PROJECT_NUMBER}@bigquery-encryption.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}`, project: str(inputs.project, project), id: email };
    },
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": (inputs, { project }) => {
      const email = `service-${PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com`;
      return { emailAddress: email, member: `serviceAccount:${email}`, project: str(inputs.project, project), id: email };
    },
  },
};
