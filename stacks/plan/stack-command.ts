import { type FlagSpec, helpText, type ParsedCommand, parseCommand, UsageError } from "../../services/core/cli";

/** Where a one-stack command stops before its work: the exit code and the text to print. */
export type Stop = { exit: 0 | 2; stdout?: string; stderr?: string };
/** What a one-stack command (`npm run plan`, `npm run scan`) was asked, or where it stops. */
export type StackCommand = { stackName: string; values: ParsedCommand["values"] } | Stop;

/**
 * Parses `<stack> [flags]` for the commands that take exactly one stack of stacks/: --help is
 * the help text on stdout (exit 0); an unknown flag, no stack or several stacks, or a stack
 * without its file is a usage error on stderr naming the stacks there are (exit 2). Pure: the
 * caller prints and exits.
 */
export function stackCommand(
  command: string,
  argv: string[],
  spec: { usage: string; description: string; flags: FlagSpec[]; stacks: string[] },
  env: NodeJS.ProcessEnv = process.env,
): StackCommand {
  const help = helpText(spec.usage, spec.description, spec.flags);
  let args: ParsedCommand;
  try {
    args = parseCommand(argv, spec.flags, env);
  } catch (error) {
    if (error instanceof UsageError) return { exit: 2, stderr: `${command}: ${error.message}\n\n${help}` };
    throw error;
  }
  if (args.values.help) return { exit: 0, stdout: help };
  const stackName = args.positionals[0];
  if (!stackName || args.positionals.length > 1) {
    return { exit: 2, stderr: `${command}: name exactly one stack: ${spec.stacks.join(", ")}\n\n${help}` };
  }
  if (!spec.stacks.includes(stackName)) {
    return {
      exit: 2,
      stderr: `${command}: stack "${stackName}" does not exist (no stacks/Pulumi.${stackName}.yaml); stacks: ${spec.stacks.join(", ")}`,
    };
  }
  return { stackName, values: args.values };
}

/** Prints where the command stopped; the exit code to return. */
export function stop(at: Stop): number {
  if (at.stdout) console.log(at.stdout);
  if (at.stderr) console.error(at.stderr);
  return at.exit;
}
