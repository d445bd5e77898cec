import { parseArgs } from "node:util";

/** A command-line flag with its environment-variable twin (for containers). */
export interface FlagSpec {
  /** e.g. "online-store"; its twin is ONLINE_STORE unless `env` says otherwise. */
  name: string;
  type: "string" | "boolean";
  description: string;
  default?: string | boolean;
  env?: string;
  short?: string;
  multiple?: boolean;
}

/** `online-store` -> `ONLINE_STORE`. */
export function envTwin(flag: string): string {
  return flag.toUpperCase().replace(/-/g, "_");
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses argv with node:util parseArgs; a flag not given on the command line falls back to
 * its environment twin, then its default. Unknown flags are a UsageError naming the flag.
 */
export function parseCommand(argv: string[], flags: FlagSpec[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const f of flags) {
    // parseArgs rejects keys present with an undefined value.
    options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values: ParsedCommand["values"] = { ...(parsed.values as ParsedCommand["values"]) };
  for (const f of flags) {
    if (values[f.name] !== undefined) continue;
    const fromEnv = env[f.env ?? envTwin(f.name)];
    if (fromEnv !== undefined && fromEnv !== "") {
      values[f.name] = f.type === "boolean" ? fromEnv === "true" || fromEnv === "1" : f.multiple ? fromEnv.split(",") : fromEnv;
    } else if (f.default !== undefined) {
      values[f.name] = f.default;
    }
  }
  return { values, positionals: parsed.positionals };
}

/** Renders `--help` text: usage line, description and one line per flag with its env twin and default. */
export function helpText(usage: string, description: string, flags: FlagSpec[]): string {
  const rows = flags.map((f) => {
    const left = `  ${f.short ? `-${f.short}, ` : ""}--${f.name}${f.type === "string" ? " <value>" : ""}`;
    const dflt = f.default !== undefined && f.default !== false ? ` (default: ${String(f.default)})` : "";
    return `${left.padEnd(34)} ${f.description}${dflt} [env ${f.env ?? envTwin(f.name)}]`;
  });
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${rows.join("\n")}\n  ${"-h, --help".padEnd(32)} show this help\n`;
}
