/**
 * `npm run policy-config -- <stack> [--out FILE]`
 * Writes the policy pack config of a stack for the real engine:
 *   pulumi preview --stack <stack> --policy-pack policies --policy-pack-config <FILE>
 * so the engine runs every policy at the level and with the facts the offline plan uses.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { catalogForStack, listStacks, loadCatalog, loadStack } from "../definition";
import { helpText, parseCommand, UsageError } from "../services/core/cli";
import { policyPackConfig } from "./config";
import { allPolicies } from "./policies";

const FLAGS = [
  {
    name: "out",
    type: "string" as const,
    description: "file to write (default: out/<stack>/policy-config.json)",
    env: "POLICY_CONFIG_OUT",
  },
  { name: "stacks", type: "string" as const, description: "stacks directory", default: "stacks", env: "STACKS_DIR" },
  { name: "catalog", type: "string" as const, description: "catalog directory", default: "catalog", env: "CATALOG_DIR" },
  { name: "json", type: "boolean" as const, description: "print a JSON summary for machines" },
];
const USAGE = "npm run policy-config -- <stack> [--out FILE] [--json]";

export function main(argv: string[]): number {
  const args = parseCommand(argv, FLAGS);
  if (args.values.help) {
    console.log(
      helpText(
        USAGE,
        "Writes a stack's policy pack config (levels and stack facts) for `pulumi preview --policy-pack policies --policy-pack-config FILE`.",
        FLAGS,
      ),
    );
    return 0;
  }
  const stacksDir = resolve(String(args.values.stacks));
  const name = args.positionals[0];
  if (!name) throw new UsageError(`name the stack: one of ${listStacks(stacksDir).join(", ")}`);
  const stack = loadStack(stacksDir, name);
  const catalog = catalogForStack(
    loadCatalog(resolve(String(args.values.catalog)), stack.featureStore.project, stack),
    stack,
    listStacks(stacksDir),
  );
  const config = policyPackConfig(stack, catalog, allPolicies);
  const file = resolve(String(args.values.out ?? join("out", name, "policy-config.json")));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  const levels: Record<string, number> = {};
  for (const entry of Object.values(config)) {
    const level = typeof entry === "string" ? entry : String(entry.enforcementLevel);
    levels[level] = (levels[level] ?? 0) + 1;
  }
  if (args.values.json) console.log(JSON.stringify({ stack: name, file, policies: Object.keys(config).length, levels }));
  else
    console.log(
      `wrote ${file}: ${Object.keys(config).length} policies (${Object.entries(levels)
        .map(([l, n]) => `${n} ${l}`)
        .join(", ")}) for stack ${name}`,
    );
  return 0;
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (error) {
    console.error(`write-config: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
