import { type MockTable, suffix } from "./types";

/** Realistic GCP outputs and data-source results; extend with every type and invoke used. */
export const gcp: MockTable = {
  outputs: {
    "gcp:container/cluster:Cluster": ({ name, inputs, region }) => ({
      endpoint: `34.${(parseInt(suffix(name, 2), 16) % 200) + 20}.10.${(parseInt(suffix(`${name}x`, 2), 16) % 250) + 1}`,
      masterAuth: { clusterCaCertificate: Buffer.from(`-----BEGIN CERTIFICATE-----\nMOCK${suffix(name)}\n-----END CERTIFICATE-----\n`).toString("base64") },
      location: inputs.location ?? region,
      selfLink: `https://container.googleapis.com/v1/projects/${String(inputs.project ?? "p")}/locations/${region}/clusters/${name}`,
    }),
  },
  calls: {
    "gcp:organizations/getProject:getProject": (inputs, { project }) => ({ projectId: inputs.projectId ?? project, number: "123456789012", name: project, id: `projects/${project}` }),
    "gcp:compute/getZones:getZones": (_i, { region }) => ({ names: ["a", "b", "c"].map((z) => `${region}-${z}`), id: region }),
  },
};
