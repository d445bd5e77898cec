import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The network policies (policies/security-network.ts) over gcp-prod's real plan: its one firewall
 * (GKE's control plane, 172.16.0.0/28, to the sidecar injector's webhook on tcp/15017), broken one
 * way at a time, each case asserting the whole list of violations (message and fix).
 */

const FIREWALL = "gcp:compute/firewall:Firewall";
const WEBHOOKS = "mlops-gcp-network-control-plane-webhooks";

const resources = realPlan("gcp-prod");

const webhooks = (change: (r: Props) => void) => withBreakage(resources, { type: FIREWALL, match: (r) => r.name === WEBHOOKS, change });

const ADMIN_FIX =
  "allow the callers' security group (referencedSecurityGroupId) or a private CIDR; reach nodes through SSM Session Manager / IAP, not SSH from the internet";
const opens = (what: string) => ({ message: `firewall "${WEBHOOKS}": opens ${what}.`, fix: ADMIN_FIX });

describe("network-no-public-admin-ports on gcp-prod's real firewall", () => {
  const admin = (all: PlanResource[]) => violationsOf(all, "gcp-prod", "network-no-public-admin-ports");

  it("passes the real output", () => {
    expect(admin(resources)).toEqual([]);
  });

  it("the webhook port and SSH opened to the internet name SSH only", () => {
    const found = admin(
      webhooks((r) => {
        r.sourceRanges = ["0.0.0.0/0"];
        r.allows = [{ protocol: "tcp", ports: ["15017", "22"] }];
      }),
    );
    expect(found).toEqual([opens("22 (SSH) to 0.0.0.0/0")]);
  });

  it("each allow of a firewall is its own violation", () => {
    const found = admin(
      webhooks((r) => {
        r.sourceRanges = ["::/0"];
        r.allows = [{ protocol: "tcp", ports: ["5432", "6443"] }, { protocol: "TCP" }];
      }),
    );
    expect(found).toEqual([
      opens("5432 (PostgreSQL) to ::/0"),
      opens("6443 (Kubernetes API) to ::/0"),
      opens(
        "22 (SSH), 23 (Telnet), 2375 (Docker), 2376 (Docker), 3306 (MySQL), 3389 (RDP), 5432 (PostgreSQL), 5439 (Redshift), 5985 (WinRM), 5986 (WinRM), 6379 (Redis), 6443 (Kubernetes API), 9200 (Elasticsearch), 10250 (kubelet), 27017 (MongoDB) to ::/0",
      ),
    ]);
  });

  it("UDP on every port from the internet reaches no admin service", () => {
    expect(
      admin(
        webhooks((r) => {
          r.sourceRanges = ["0.0.0.0/0"];
          r.allows = [{ protocol: "udp" }];
        }),
      ),
    ).toEqual([]);
  });

  it("a disabled firewall opens nothing", () => {
    const found = admin(
      webhooks((r) => {
        r.disabled = true;
        r.sourceRanges = ["0.0.0.0/0"];
        r.allows = [{ protocol: "all" }];
      }),
    );
    expect(found).toEqual([]);
  });

  it("an EGRESS firewall to the internet on SSH exposes nothing", () => {
    const found = admin(
      webhooks((r) => {
        r.direction = "EGRESS";
        delete r.sourceRanges;
        r.destinationRanges = ["0.0.0.0/0"];
        r.allows = [{ protocol: "tcp", ports: ["22"] }];
      }),
    );
    expect(found).toEqual([]);
  });

  it("an ingress firewall without sourceRanges, tags or service accounts admits 0.0.0.0/0 (GCP's default source)", () => {
    const found = admin(
      webhooks((r) => {
        delete r.sourceRanges;
        r.allows = [{ protocol: "tcp", ports: ["22"] }];
      }),
    );
    expect(found).toEqual([opens("22 (SSH) to 0.0.0.0/0")]);
  });

  it("an ingress firewall from source tags only admits those instances, not the internet", () => {
    const found = admin(
      webhooks((r) => {
        delete r.sourceRanges;
        r.sourceTags = ["bastion"];
        r.allows = [{ protocol: "tcp", ports: ["22"] }];
      }),
    );
    expect(found).toEqual([]);
  });

  it("an ingress firewall from service accounts only admits those instances, not the internet", () => {
    const found = admin(
      webhooks((r) => {
        r.sourceRanges = [];
        r.sourceServiceAccounts = ["bastion@mlops-prod-7730.iam.gserviceaccount.com"];
        r.allows = [{ protocol: "tcp", ports: ["22"] }];
      }),
    );
    expect(found).toEqual([]);
  });
});

describe("network-no-unrestricted-egress is about AWS security groups only", () => {
  it("a GCP egress firewall to the internet is not its concern (GCP's implied rule allows egress anyway)", () => {
    const egressAll = resource(FIREWALL, "egress-all", {
      direction: "EGRESS",
      destinationRanges: ["0.0.0.0/0"],
      allows: [{ protocol: "all" }],
    });
    expect(violationsOf([...resources, egressAll], "gcp-prod", "network-no-unrestricted-egress")).toEqual([]);
  });
});
