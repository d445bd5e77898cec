import { describeRule, edit } from "./fixtures/cases";

describeRule(
  "istio-strict-mtls",
  ["aws-dev", "gcp-prod", "local"],
  [
    {
      stack: "local",
      change: "there is no mesh-wide PeerAuthentication",
      edit: (p) => {
        delete p.mtls;
      },
      names: "namespace istio-system",
      fix: 'mode: "STRICT"',
    },
    {
      stack: "aws-dev",
      change: "mesh mTLS is PERMISSIVE",
      edit: (p) =>
        edit(p, "mtls", (r) => {
          r.spec.mtls.mode = "PERMISSIVE";
        }),
      names: 'PeerAuthentication "istio-system/default"',
      fix: '"STRICT"',
    },
  ],
);

describeRule(
  "istio-default-deny",
  ["aws-prod", "gcp-dev", "local"],
  [
    {
      stack: "local",
      change: "there is no allow-nothing policy",
      edit: (p) => {
        delete p.denyAll;
      },
      names: "namespace models",
      fix: "allow-nothing",
    },
    {
      stack: "gcp-dev",
      change: "the mesh-wide policy allows a rule",
      edit: (p) =>
        edit(p, "denyAll", (r) => {
          r.spec = { rules: [{ from: [{ source: { namespaces: ["mlops"] } }] }] };
        }),
      names: "namespace mlops",
      fix: "AuthorizationPolicy",
    },
  ],
);
