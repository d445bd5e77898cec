/** One background materialization started by `?async=true`. */
export interface MaterializationRun {
  featureViews: string[];
  state: "running" | "succeeded" | "failed";
  startedAt: string;
  finishedAt?: string;
  /** The summary on success, the reason on failure. */
  summary?: unknown;
  error?: string;
}

/**
 * Background materializations of one server (Feast's async /materialize marks views MATERIALIZING
 * and answers 409 for a view already running; we keep the same rule and a status to poll).
 */
export class MaterializationRuns {
  private readonly runs: MaterializationRun[] = [];

  /** Views of the list that a running materialization already covers. */
  busy(views: string[]): string[] {
    const running = new Set(this.runs.filter((r) => r.state === "running").flatMap((r) => r.featureViews));
    return views.filter((v) => running.has(v));
  }

  start(featureViews: string[], work: Promise<unknown>): MaterializationRun {
    const run: MaterializationRun = { featureViews, state: "running", startedAt: new Date().toISOString() };
    this.runs.push(run);
    if (this.runs.length > 50) this.runs.splice(0, this.runs.length - 50);
    work.then(
      (summary) => Object.assign(run, { state: "succeeded", summary, finishedAt: new Date().toISOString() }),
      (error: Error) => Object.assign(run, { state: "failed", error: error.message, finishedAt: new Date().toISOString() }),
    );
    return run;
  }

  /** The latest runs, newest first. */
  status(): { runs: MaterializationRun[] } {
    return { runs: [...this.runs].reverse() };
  }
}
