/**
 * A self-contained HTML report of a drift check: no script, no external asset, so it can be
 * mailed, attached to a ticket or served from a bucket. A verdict first, then a table of every
 * feature (drifted ones on top), then one card per feature with reference vs current histograms
 * drawn as inline SVG and the reason its method was chosen.
 */
import type { DriftResult, FeatureResult, Histogram } from "./check";

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

function formatNumber(value: number | null, digits = 4): string {
  if (value === null) return "—";
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(2);
  return Number(value.toFixed(digits)).toString();
}

const REF_COLOUR = "#4c78a8";
const CUR_COLOUR = "#f58518";

/** Grouped bars, reference and current side by side per bin, heights as shares. */
export function histogramSvg(histogram: Histogram, title: string): string {
  const width = 560;
  const height = 220;
  const left = 44;
  const bottom = histogram.kind === "categorical" ? 62 : 34;
  const top = 12;
  const plotWidth = width - left - 10;
  const plotHeight = height - top - bottom;
  const bins = histogram.reference.length;
  const peak = Math.max(...histogram.reference, ...histogram.current, 1e-9);
  const slot = plotWidth / Math.max(bins, 1);
  const bar = Math.max(slot / 2 - 1, 0.5);
  const parts: string[] = [];
  for (let i = 0; i < bins; i++) {
    const x = left + i * slot;
    for (const [k, value, colour] of [
      [0, histogram.reference[i] ?? 0, REF_COLOUR],
      [1, histogram.current[i] ?? 0, CUR_COLOUR],
    ] as const) {
      const h = (value / peak) * plotHeight;
      parts.push(
        `<rect class="bar" x="${(x + k * bar + 0.5).toFixed(2)}" y="${(top + plotHeight - h).toFixed(2)}" width="${bar.toFixed(2)}" height="${h.toFixed(2)}" fill="${colour}"><title>${k ? "current" : "reference"}: ${(value * 100).toFixed(1)}%</title></rect>`,
      );
    }
  }
  const axis: string[] = [
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - 10}" y2="${top + plotHeight}" stroke="#888"/>`,
    `<text x="${left - 6}" y="${top + 8}" text-anchor="end" font-size="10">${(peak * 100).toFixed(0)}%</text>`,
    `<text x="${left - 6}" y="${top + plotHeight}" text-anchor="end" font-size="10">0%</text>`,
  ];
  if (histogram.kind === "numeric") {
    const edges = histogram.edges;
    axis.push(`<text x="${left}" y="${height - 14}" font-size="10">≤ ${escapeHtml(formatNumber(edges[0] ?? 0, 3))} (p1)</text>`);
    axis.push(
      `<text x="${width - 10}" y="${height - 14}" text-anchor="end" font-size="10">(p99) ≥ ${escapeHtml(formatNumber(edges[edges.length - 1] ?? 0, 3))}</text>`,
    );
  } else {
    histogram.labels.forEach((label, i) => {
      const x = left + i * slot + slot / 2;
      const short = label.length > 12 ? `${label.slice(0, 11)}…` : label;
      axis.push(
        `<text x="${x.toFixed(1)}" y="${top + plotHeight + 12}" font-size="10" text-anchor="end" transform="rotate(-35 ${x.toFixed(1)} ${top + plotHeight + 12})">${escapeHtml(short)}</text>`,
      );
    });
  }
  return `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${axis.join("")}${parts.join("")}</svg>`;
}

function verdict(feature: FeatureResult): string {
  if (feature.status === "skipped") return `<span class="badge skip">skipped</span>`;
  return feature.drifted ? `<span class="badge drift">drift</span>` : `<span class="badge ok">stable</span>`;
}

function rule(feature: FeatureResult): string {
  if (feature.threshold === null) return "—";
  return feature.p_value !== null ? `p &lt; ${formatNumber(feature.threshold)}` : `≥ ${formatNumber(feature.threshold)}`;
}

function featureCard(feature: FeatureResult): string {
  const chart = feature.histogram
    ? histogramSvg(feature.histogram, `${feature.name}: reference vs current`)
    : `<p class="muted">No chart: ${escapeHtml(feature.reason)}</p>`;
  const notes = feature.notes.length ? `<ul class="notes">${feature.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "";
  const score =
    feature.status === "checked"
      ? `<p><b>${escapeHtml(feature.method_name ?? "")}</b>: statistic ${formatNumber(feature.statistic)}${feature.p_value !== null ? `, p-value ${formatNumber(feature.p_value)}` : ""}; drift when ${rule(feature)}. PSI ${formatNumber(feature.psi?.value ?? null)} (${feature.psi?.level ?? "—"}).</p>`
      : "";
  return `<section class="card" id="f-${escapeHtml(feature.name)}">
<h3>${escapeHtml(feature.name)} ${verdict(feature)} <span class="muted">${feature.type}</span></h3>
${score}<p class="why">Why this method: ${escapeHtml(feature.reason)}</p>
${chart}
<p class="muted">Reference: ${feature.reference.n} values, ${feature.reference.missing} missing. Current: ${feature.current.n} values, ${feature.current.missing} missing.</p>
${notes}</section>`;
}

export function renderReport(result: DriftResult): string {
  const title = `Drift report${result.model ? `: ${result.model}` : ""}`;
  const ordered = [...result.features].sort(
    (a, b) =>
      Number(b.drifted) - Number(a.drifted) ||
      (a.status === "skipped" ? 1 : 0) - (b.status === "skipped" ? 1 : 0) ||
      a.name.localeCompare(b.name),
  );
  const rows = ordered
    .map(
      (f) =>
        `<tr class="${f.drifted ? "drifted" : ""}"><td><a href="#f-${escapeHtml(f.name)}">${escapeHtml(f.name)}</a></td><td>${f.type}</td><td>${escapeHtml(f.method ?? "—")}</td><td>${formatNumber(f.statistic)}</td><td>${formatNumber(f.p_value)}</td><td>${rule(f)}</td><td>${verdict(f)}</td><td>${formatNumber(f.psi?.value ?? null)}</td></tr>`,
    )
    .join("\n");
  const window = result.window ? `<p>Window: ${escapeHtml(result.window.start)} to ${escapeHtml(result.window.end)}</p>` : "";
  const headline = result.dataset_drift
    ? `<div class="verdict drift">Dataset drift: ${result.counts.drifted} of ${result.counts.checked} features drifted (${(result.drift_share * 100).toFixed(0)}% ≥ ${(result.drift_share_threshold * 100).toFixed(0)}%)</div>`
    : `<div class="verdict ok">No dataset drift: ${result.counts.drifted} of ${result.counts.checked} features drifted (${(result.drift_share * 100).toFixed(0)}% &lt; ${(result.drift_share_threshold * 100).toFixed(0)}%)</div>`;
  const notes = result.notes.length ? `<ul class="notes">${result.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px;background:#fff}
h1{margin-bottom:4px}.muted{color:#666;font-size:13px}
.verdict{padding:14px 18px;border-radius:8px;font-size:20px;font-weight:600;margin:16px 0}
.verdict.drift{background:#fde2e1;color:#a1160a}.verdict.ok{background:#e3f4e7;color:#14622b}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{padding:6px 8px;border-bottom:1px solid #e4e4e4;text-align:left}
th{background:#f6f6f6}tr.drifted td{background:#fff6f5}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.drift{background:#d93025;color:#fff}.badge.ok{background:#1e8e3e;color:#fff}.badge.skip{background:#9aa0a6;color:#fff}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(580px,1fr));gap:16px;margin-top:20px}
.card{border:1px solid #ddd;border-radius:8px;padding:12px 16px}.card h3{margin:4px 0}
.why{font-size:13px;color:#444}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.notes{font-size:13px;color:#7a4b00}
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Checked ${escapeHtml(result.checked_at)} · reference ${result.reference.rows} rows${result.reference.source ? ` from ${escapeHtml(result.reference.source)}` : ""} · current ${result.current.rows} rows</p>
${window}${headline}
<p>${result.counts.checked} features checked, ${result.counts.skipped} skipped; PSI: ${result.counts.psi_drift} above 0.2, ${result.counts.psi_warn} between 0.1 and 0.2.</p>
${notes}
<table><thead><tr><th>Feature</th><th>Type</th><th>Method</th><th>Statistic</th><th>p-value</th><th>Drift when</th><th>Result</th><th>PSI</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p class="legend"><span style="background:${REF_COLOUR}"></span>reference<span style="background:${CUR_COLOUR}"></span>current (bar heights are shares of rows)</p>
<div class="cards">
${ordered.map(featureCard).join("\n")}
</div>
<p class="muted">Methods: KS and chi-square and Z-test are tests (drift when the p-value is below the threshold); Wasserstein (divided by the reference's standard deviation), Jensen-Shannon (natural log) and PSI are distances (drift at or above the threshold). Defaults follow Evidently; the catalog can override them per feature.</p>
</body></html>
`;
}
