import type { PolicyResource } from "@pulumi/policy";
import { ofTypes, refersTo, safeProp } from "./links";
import { asArray, asRecord, get, type PlatformPolicy, violation } from "./support";

/**
 * The tracking server's database beyond encryption and privacy (security-data.ts): who logs in
 * (IAM authentication), what it records (audit logs exported, statement logging flags), TLS
 * enforced by the server, and point-in-time recovery. Read against Checkov CKV_AWS_161 (IAM auth),
 * CKV_AWS_129 (log exports), CKV2_AWS_69 (rds.force_ssl), CKV_GCP_108-111 and CKV2_GCP_13 (flags).
 */

/** Engines with IAM database authentication (RDS has it for these only; an unknown engine is asked too). */
const IAM_AUTH_ENGINES = ["postgres", "mysql", "mariadb", ""];
/** Log types an RDS engine must export to CloudWatch Logs. */
const REQUIRED_EXPORTS: Record<string, string[]> = { postgres: ["postgresql"], mysql: ["error", "audit"], mariadb: ["error", "audit"] };

export const rdsIamAuthAndAuditLogs: PlatformPolicy = {
  area: "security",
  name: "rds-iam-auth-and-audit-logs",
  description:
    "RDS instances accept IAM authentication (MariaDB, MySQL, PostgreSQL), export their engine logs to CloudWatch Logs, take minor version upgrades, and (PostgreSQL) use a parameter group with rds.force_ssl = 1.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const dbs = ofTypes(args.resources, ["aws:rds/instance:Instance"]);
    if (dbs.length === 0) args.notApplicable("no RDS instances in the stack");
    const groups = ofTypes(args.resources, ["aws:rds/parameterGroup:ParameterGroup"]);
    for (const db of dbs) {
      const subject = `RDS instance "${db.name}"`;
      const say = (problem: string, fix: string) => report(violation(subject, problem, fix), db.urn);
      const engine = String(safeProp(db, "engine") ?? "");
      if (IAM_AUTH_ENGINES.includes(engine) && safeProp(db, "iamDatabaseAuthenticationEnabled") !== true)
        say("IAM authentication is off: only the static password logs in", "set iamDatabaseAuthenticationEnabled: true");
      const exported = asArray(safeProp(db, "enabledCloudwatchLogsExports")).map(String);
      const missing = (REQUIRED_EXPORTS[engine] ?? []).filter((t) => !exported.includes(t));
      if (missing.length)
        say(
          `does not export ${missing.join(", ")} logs`,
          `set enabledCloudwatchLogsExports: [${[...exported, ...missing].map((t) => `"${t}"`).join(", ")}]`,
        );
      if (safeProp(db, "autoMinorVersionUpgrade") === false)
        say("refuses minor version (security) upgrades", "set autoMinorVersionUpgrade: true");
      if (engine !== "postgres") continue;
      const group = groups.find((g: PolicyResource) => refersTo(db, "parameterGroupName", g, ["name", "id"]));
      const forceSsl = asArray(group ? safeProp(group, "parameters") : []).some(
        (p) => get(p, "name") === "rds.force_ssl" && String(get(p, "value")) === "1",
      );
      if (!forceSsl)
        say(
          group
            ? `parameter group "${group.name}" does not set rds.force_ssl = 1`
            : "uses the default parameter group, which accepts plain-text connections",
          'create an aws.rds.ParameterGroup with { name: "rds.force_ssl", value: "1" } and set parameterGroupName',
        );
    }
  },
};

/** PostgreSQL flags Cloud SQL must set, and the values accepted. */
export const CLOUDSQL_POSTGRES_FLAGS: Record<string, string[]> = {
  log_connections: ["on"],
  log_disconnections: ["on"],
  log_checkpoints: ["on"],
  log_lock_waits: ["on"],
  log_hostname: ["on"],
  log_min_error_statement: ["error", "log", "fatal", "panic"],
  log_statement: ["ddl", "mod", "all"],
  "cloudsql.enable_pgaudit": ["on"],
  "cloudsql.iam_authentication": ["on"],
};

export const cloudsqlAuditAndRecovery: PlatformPolicy = {
  area: "security",
  name: "cloudsql-audit-and-recovery",
  description:
    "Cloud SQL for PostgreSQL logs connections, checkpoints, lock waits, errors and DDL, runs pgAudit, accepts IAM authentication (cloudsql.iam_authentication), and has point-in-time recovery on.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const dbs = ofTypes(args.resources, ["gcp:sql/databaseInstance:DatabaseInstance"]);
    if (dbs.length === 0) args.notApplicable("no Cloud SQL instances in the stack");
    for (const db of dbs) {
      if (!String(safeProp(db, "databaseVersion") ?? "").startsWith("POSTGRES")) continue;
      const settings = asRecord(safeProp(db, "settings"));
      const flags = new Map(asArray(settings.databaseFlags).map((f) => [String(get(f, "name")), String(get(f, "value"))]));
      const wrong = Object.entries(CLOUDSQL_POSTGRES_FLAGS).filter(([name, ok]) => !ok.includes(flags.get(name) ?? ""));
      const subject = `Cloud SQL instance "${db.name}"`;
      if (wrong.length)
        report(
          violation(
            subject,
            `flags ${wrong.map(([n]) => `${n}=${flags.get(n) ?? "(unset)"}`).join(", ")}`,
            `set settings.databaseFlags ${wrong.map(([n, ok]) => `${n}=${ok[0]}`).join(", ")}`,
          ),
          db.urn,
        );
      if (get(settings, "backupConfiguration", "pointInTimeRecoveryEnabled") !== true)
        report(
          violation(
            subject,
            "point-in-time recovery is off",
            "set settings.backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true }",
          ),
          db.urn,
        );
    }
  },
};

export const databasePolicies: PlatformPolicy[] = [rdsIamAuthAndAuditLogs, cloudsqlAuditAndRecovery];
