import { isAbsolute, relative, resolve } from "node:path";

/** A TypeScript compile error as ts-node reports it (`file(line,col): error TSnnnn: message`). */
export interface CompileError {
  /** Relative to the repository root. */
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

const DIAGNOSTIC = /^(.+?\.[cm]?tsx?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;

/**
 * The compile errors in a program's error output. ts-node names files relative to the program
 * directory (stacks/), so they are re-based on the repository root; continuation lines (the
 * indented rest of a long message) are joined to their error.
 */
export function compileErrors(text: string, programDirectory: string, root: string): CompileError[] {
  const errors: CompileError[] = [];
  let last: CompileError | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const m = DIAGNOSTIC.exec(line.trim());
    if (m) {
      const [, file = "", ln = "0", col = "0", code = "", message = ""] = m;
      const abs = isAbsolute(file) ? file : resolve(programDirectory, file);
      last = { file: relative(root, abs), line: Number(ln), column: Number(col), code, message };
      errors.push(last);
    } else if (last && /^\s{2,}\S/.test(line)) {
      last.message += ` ${line.trim()}`;
    } else {
      last = undefined;
    }
  }
  return errors;
}

export function formatCompileError(e: CompileError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.code}: ${e.message}`;
}
