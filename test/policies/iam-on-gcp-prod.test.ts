import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * gcp-project-iam-least-privilege (policies/security-iam.ts) over gcp-prod's real project grants,
 * one change at a time, each case asserting the whole list of violations (message and fix).
 */

const MEMBER = "gcp:projects/iAMMember:IAMMember";
const BINDING = "gcp:projects/iAMBinding:IAMBinding";
const NODES_LOG_WRITER = "mlops-gcp-nodes-logging-logWriter";
const NODES = "serviceAccount:mlops-gcp-prod-nodes@mlops-prod-7730.iam.gserviceaccount.com";

const resources = realPlan("gcp-prod");

const grants = (all: PlanResource[]) => violationsOf(all, "gcp-prod", "gcp-project-iam-least-privilege");
/** The plan with the nodes' logWriter grant changed. */
const logWriter = (change: (r: Props) => void) =>
  withBreakage(resources, { type: MEMBER, match: (r) => r.name === NODES_LOG_WRITER, change });
const on = (name: string, problem: string, fix: string) => ({ message: `project IAM grant "${name}": ${problem}.`, fix });
const BASIC_FIX = "grant the predefined roles the member needs (e.g. roles/bigquery.jobUser), on the resource where possible";
const IMPERSONATION_FIX = "grant it on the one service account (gcp.serviceaccount.IAMMember), as Workload Identity does";
const DEFAULT_FIX = "create a dedicated service account (components/gcp/node-service-account.ts) and grant it instead";

describe("gcp-project-iam-least-privilege on gcp-prod's real project grants", () => {
  it("passes the real output", () => {
    expect(grants(resources)).toEqual([]);
  });

  it("each basic role is refused", () => {
    for (const role of ["roles/owner", "roles/editor", "roles/viewer"]) {
      expect(
        grants(
          logWriter((r) => {
            r.role = role;
          }),
        ),
      ).toEqual([on(NODES_LOG_WRITER, `grants the basic role ${role} (thousands of permissions across every service)`, BASIC_FIX)]);
    }
  });

  it("each service-account impersonation role at project level is refused", () => {
    for (const role of ["roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountKeyAdmin"]) {
      expect(
        grants(
          logWriter((r) => {
            r.role = role;
          }),
        ),
      ).toEqual([
        on(
          NODES_LOG_WRITER,
          `grants ${role} at project level, so the member can act as every service account of the project`,
          IMPERSONATION_FIX,
        ),
      ]);
    }
  });

  it("a grant to allUsers is named before the role's own problem", () => {
    const found = grants(
      logWriter((r) => {
        r.member = "allUsers";
        r.role = "roles/owner";
      }),
    );
    expect(found).toEqual([
      on(NODES_LOG_WRITER, "grants roles/owner to allUsers on the project", "grant roles to named service accounts or groups"),
    ]);
  });

  it("a binding names only its public members", () => {
    const binding = resource(BINDING, "readers", {
      project: "mlops-prod-7730",
      role: "roles/logging.viewer",
      members: [NODES, "allAuthenticatedUsers", "group:ml@example.com", "allUsers"],
    });
    expect(grants([...resources, binding])).toEqual([
      on(
        "readers",
        "grants roles/logging.viewer to allAuthenticatedUsers, allUsers on the project",
        "grant roles to named service accounts or groups",
      ),
    ]);
  });

  it("a binding to named members only passes", () => {
    const binding = resource(BINDING, "writers", { project: "mlops-prod-7730", role: "roles/logging.logWriter", members: [NODES] });
    expect(grants([...resources, binding])).toEqual([]);
  });

  it("the default compute and App Engine service accounts are refused, named without their serviceAccount: prefix", () => {
    for (const account of ["123456789012-compute@developer.gserviceaccount.com", "mlops-prod-7730@appspot.gserviceaccount.com"]) {
      expect(
        grants(
          logWriter((r) => {
            r.member = `serviceAccount:${account}`;
          }),
        ),
      ).toEqual([
        on(
          NODES_LOG_WRITER,
          `grants roles/logging.logWriter to the default service account ${account}, which every VM and node uses`,
          DEFAULT_FIX,
        ),
      ]);
    }
  });

  it("an account whose name only contains the default's is not the default", () => {
    const account = "serviceAccount:x-compute@developer.gserviceaccount.com.example.iam.gserviceaccount.com";
    expect(
      grants(
        logWriter((r) => {
          r.member = account;
        }),
      ),
    ).toEqual([]);
  });
});
