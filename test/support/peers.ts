/**
 * Where the real peers that scripts/test-env.sh installs live (outside the repository, under
 * MLOPS_CACHE, default ~/.cache/mlops): one virtualenv per Python peer, Go programs in bin/.
 * A missing peer throws with the command that installs it: tests that drive a peer never skip.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const mlopsCache = process.env.MLOPS_CACHE ?? join(homedir(), ".cache", "mlops");

function required(path: string, what: string): string {
  if (!existsSync(path)) {
    throw new Error(`${what} is not installed at ${path}; run: bash scripts/test-env.sh`);
  }
  return path;
}

/** The python interpreter of the virtualenv `venv-<name>` (e.g. "feast", "triton"). */
export function peerPython(name: string): string {
  return required(join(mlopsCache, `venv-${name}`, "bin", "python"), `The ${name} virtualenv`);
}

/** An executable inside the virtualenv `venv-<name>` (e.g. peerBin("mlflow", "mlflow")). */
export function peerBin(venv: string, bin: string): string {
  return required(join(mlopsCache, `venv-${venv}`, "bin", bin), `${bin} (venv-${venv})`);
}

/** A Go program built by test-env.sh into MLOPS_CACHE/bin (e.g. "kube-score", "trivy"). */
export function goTool(name: string): string {
  return required(join(mlopsCache, "bin", name), name);
}
