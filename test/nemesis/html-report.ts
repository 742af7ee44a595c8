/**
 * The self-contained HTML report of a run (inline CSS and SVG, no script, no
 * external file): verdict, figures, a latency-over-time plot with the fault
 * windows shaded (as Jepsen's latency plots), a throughput plot, the leader
 * over time, the fault log, and for every linearizability anomaly the
 * timeline of the operations on that key around the one that cannot be
 * linearized.
 */
import type { OpRecord } from './history.js';
import type { FaultRecord } from './nemesis.js';
import type { Anomaly, CheckerCost, RunStats } from './report.js';
import type { FaultFamily } from './schedule.js';

export interface HtmlReportInput {
  title: string;
  command: string;
  settings: [string, string][];
  stats: RunStats;
  checker: CheckerCost;
  anomalies: readonly Anomaly[];
  faults: readonly FaultRecord[];
  ops: readonly OpRecord[];
  leaderTimeline: readonly { at: number; leader: string | null }[];
  nodes: readonly string[];
  faultLog: readonly string[];
}

const FAMILY_COLOR: Record<FaultFamily, string> = { network: '#e45756', process: '#9d6bd0', clock: '#f2a541', membership: '#3aa17e' };
const TYPE_COLOR = { read: '#4c78a8', write: '#54a24b', cas: '#f58518' } as const;
const NODE_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d'];
const WIDTH = 1100;
const LEFT = 60;
const RIGHT = 20;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderHtmlReport(input: HtmlReportInput): string {
  const { stats, anomalies } = input;
  const seconds = stats.durationMs / 1000;
  const verdict = anomalies.length === 0
    ? '<span class="ok">0 anomalies</span>'
    : `<span class="bad">${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'}</span>`;
  const o = stats.ops;
  const row = (name: string, r: { ok: number; fail: number; info: number }) => `<tr><td>${name}</td><td>${r.ok}</td><td>${r.fail}</td><td>${r.info}</td><td>${r.ok + r.fail + r.info}</td></tr>`;
  const lat = (p: RunStats['latency']['inside']) => `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} / ${p.max.toFixed(0)} ms (${p.count})`;
  const faultCounts = Object.entries(stats.faults).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: ${WIDTH + 40}px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.ok { color: #fff; background: #2e8b57; padding: 2px 10px; border-radius: 10px; }
.bad { color: #fff; background: #c0392b; padding: 2px 10px; border-radius: 10px; }
code, pre { font: 12px/1.4 ui-monospace, monospace; } pre { background: #f6f6f6; padding: 10px; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 3px 10px; text-align: right; } td:first-child, th:first-child { text-align: left; }
table.facts td { text-align: left; }
.grid { display: grid; grid-template-columns: auto auto; gap: 24px; align-items: start; justify-content: start; }
.legend span { display: inline-block; margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
</style></head><body>
<h1>${esc(input.title)} ${verdict}</h1>
<div><code>${esc(input.command)}</code></div>
<div>${input.settings.map(([k, v]) => `${esc(k)}: <b>${esc(v)}</b>`).join(' &middot; ')}</div>
<h2>Figures</h2>
<div class="grid"><table><tr><th>operations</th><th>ok</th><th>fail</th><th>info</th><th>total</th></tr>
${row('read', o.read)}${row('write', o.write)}${row('cas', o.cas)}</table>
<table class="facts">
<tr><td>operations</td><td>${stats.total} (${(stats.total / seconds).toFixed(0)}/s)</td></tr>
<tr><td>acknowledged writes</td><td>${stats.acknowledgedWrites}</td></tr>
<tr><td>cas swapped / not</td><td>${stats.casSwapped} / ${stats.casNotSwapped}</td></tr>
<tr><td>faults</td><td>${esc(faultCounts)}</td></tr>
<tr><td>failovers</td><td>${stats.failovers}</td></tr>
<tr><td>latency outside faults p50 / p99 / max</td><td>${lat(stats.latency.outside)}</td></tr>
<tr><td>latency inside faults p50 / p99 / max</td><td>${lat(stats.latency.inside)}</td></tr>
<tr><td>checker</td><td>${input.checker.operations} ops, ${input.checker.keys} keys, ${input.checker.steps} steps, ${input.checker.ms.toFixed(0)} ms</td></tr>
</table></div>
<h2>Latency</h2>
${legend()}
${latencyPlot(input)}
<h2>Throughput (operations completed per second)</h2>
${throughputPlot(input)}
${anomalies.length > 0 ? `<h2>Anomalies</h2>${anomalies.map((a) => anomalySection(a, input)).join('\n')}` : ''}
<h2>Faults</h2>
<table><tr><th>#</th><th>kind</th><th>start</th><th>end</th><th>what</th></tr>
${input.faults.map((f) => `<tr><td>${f.id}</td><td>${esc(f.kind)}</td><td>${(f.startMs / 1000).toFixed(1)}s</td><td>${f.endMs === null ? '-' : `${(f.endMs / 1000).toFixed(1)}s`}</td><td style="text-align:left">${esc(f.description)}</td></tr>`).join('\n')}
</table>
<h2>Log</h2>
<pre>${esc(input.faultLog.join('\n'))}</pre>
</body></html>
`;
}

function legend(): string {
  const item = (color: string, label: string, opacity = 1) => `<span><i style="background:${color};opacity:${opacity}"></i>${label}</span>`;
  return `<div class="legend">${item(TYPE_COLOR.read, 'read ok')}${item(TYPE_COLOR.write, 'write ok')}${item(TYPE_COLOR.cas, 'cas ok')}${item('#d62728', 'indeterminate (info)')}${item('#999', 'failed')}
${(Object.keys(FAMILY_COLOR) as FaultFamily[]).map((f) => item(FAMILY_COLOR[f], `${f} fault`, 0.35)).join('')}</div>`;
}

/** x axis: seconds of the run -> pixels. */
function timeScale(durationMs: number): (ms: number) => number {
  const span = Math.max(1, durationMs);
  return (ms) => LEFT + (Math.max(0, Math.min(ms, span)) / span) * (WIDTH - LEFT - RIGHT);
}

/** Fault windows, one lane per family at the top and a light shade over the plot. */
function faultShading(input: HtmlReportInput, top: number, height: number): string {
  const x = timeScale(input.stats.durationMs);
  const families: FaultFamily[] = ['network', 'process', 'clock', 'membership'];
  const labels = families.map((f, lane) => `<text x="${LEFT - 6}" y="${top - 34 + lane * 8 + 7}" text-anchor="end" style="font-size:8px">${f}</text>`).join('');
  return labels + input.faults.map((f) => {
    const x0 = x(f.startMs);
    const x1 = Math.max(x0 + 2, x(f.endMs ?? input.stats.durationMs));
    const lane = families.indexOf(f.family);
    const color = FAMILY_COLOR[f.family];
    return `<rect x="${x0.toFixed(1)}" y="${top}" width="${(x1 - x0).toFixed(1)}" height="${height}" fill="${color}" opacity="0.12"><title>${esc(`#${f.id} ${f.kind}: ${f.description}`)}</title></rect>
<rect x="${x0.toFixed(1)}" y="${top - 34 + lane * 8}" width="${(x1 - x0).toFixed(1)}" height="7" fill="${color}" opacity="0.8"><title>${esc(`#${f.id} ${f.kind}: ${f.description}`)}</title></rect>`;
  }).join('\n');
}

function timeAxis(durationMs: number, y: number): string {
  const x = timeScale(durationMs);
  const seconds = durationMs / 1000;
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => seconds / s <= 12) ?? 600;
  const ticks: string[] = [];
  for (let s = 0; s <= seconds; s += step) ticks.push(`<line x1="${x(s * 1000)}" x2="${x(s * 1000)}" y1="${y}" y2="${y + 4}" stroke="#888"/><text x="${x(s * 1000)}" y="${y + 16}" text-anchor="middle">${s}s</text>`);
  return `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}" stroke="#888"/>${ticks.join('')}`;
}

function latencyPlot(input: HtmlReportInput): string {
  const top = 44;
  const height = 300;
  const x = timeScale(input.stats.durationMs);
  let maxMs = 10; // a loop, not Math.max(...spread): a 30-minute run has 200,000 operations
  for (const op of input.ops) if (op.end - op.start > maxMs) maxMs = op.end - op.start;
  const logMax = Math.log10(maxMs * 1.2);
  const logMin = -1; // 0.1 ms
  const y = (ms: number) => top + height - ((Math.log10(Math.max(ms, 0.1)) - logMin) / (logMax - logMin)) * height;
  // One point per (pixel, class): identical on screen, bounded in size however long the run.
  const seen = new Set<string>();
  const points: string[] = [];
  for (const op of input.ops) {
    if (op.client === 'final') continue;
    const color = op.outcome === 'ok' ? TYPE_COLOR[op.type] : op.outcome === 'info' ? '#d62728' : '#999';
    const px = Math.round(x(op.start));
    const py = Math.round(y(op.end - op.start));
    const id = `${px},${py},${color}`;
    if (seen.has(id)) continue;
    seen.add(id);
    points.push(op.outcome === 'info' ? `<path d="M${px - 2},${py - 2}l4,4m0,-4l-4,4" stroke="${color}"/>` : `<circle cx="${px}" cy="${py}" r="1.6" fill="${color}"/>`);
  }
  const grid: string[] = [];
  for (let e = logMin; e <= Math.ceil(logMax); e++) {
    const ms = 10 ** e;
    if (ms > maxMs * 1.2) break;
    grid.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(ms)}" y2="${y(ms)}" stroke="#eee"/><text x="${LEFT - 6}" y="${y(ms) + 4}" text-anchor="end">${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}</text>`);
  }
  return `<svg width="${WIDTH}" height="${top + height + 60}" viewBox="0 0 ${WIDTH} ${top + height + 60}">
${grid.join('\n')}
${faultShading(input, top, height)}
${points.join('')}
${timeAxis(input.stats.durationMs, top + height)}
${leaderStrip(input, top + height + 28)}
</svg>`;
}

/** Who led over time, one color per node, white when none was known. */
function leaderStrip(input: HtmlReportInput, y: number): string {
  const x = timeScale(input.stats.durationMs);
  const parts: string[] = [`<text x="${LEFT - 6}" y="${y + 9}" text-anchor="end">leader</text>`];
  input.leaderTimeline.forEach((point, i) => {
    const next = input.leaderTimeline[i + 1]?.at ?? input.stats.durationMs;
    if (point.leader === null || next <= 0) return;
    const color = NODE_COLORS[Math.max(0, input.nodes.indexOf(point.leader)) % NODE_COLORS.length];
    const x0 = x(point.at);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${Math.max(1, x(next) - x0).toFixed(1)}" height="12" fill="${color}"><title>${point.leader} from ${(point.at / 1000).toFixed(1)}s</title></rect>`);
  });
  const keys = input.nodes.map((n, i) => `<rect x="${WIDTH - RIGHT - 60 * (input.nodes.length - i)}" y="${y + 16}" width="10" height="10" fill="${NODE_COLORS[i % NODE_COLORS.length]}"/><text x="${WIDTH - RIGHT - 60 * (input.nodes.length - i) + 14}" y="${y + 25}">${n}</text>`);
  return parts.join('') + keys.join('');
}

function throughputPlot(input: HtmlReportInput): string {
  const top = 44;
  const height = 160;
  const x = timeScale(input.stats.durationMs);
  const buckets = input.stats.throughput;
  const notOk = new Array<number>(buckets.length).fill(0);
  for (const op of input.ops) {
    if (op.client === 'final' || op.outcome === 'ok') continue;
    const s = Math.floor(op.end / 1000);
    if (s >= 0 && s < notOk.length) notOk[s]++;
  }
  let max = 10;
  for (let s = 0; s < buckets.length; s++) max = Math.max(max, buckets[s], notOk[s]);
  const y = (v: number) => top + height - (v / max) * height;
  const line = (values: number[], color: string) => `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${values.map((v, s) => `${x(s * 1000 + 500).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eee"/><text x="${LEFT - 6}" y="${y(max * f) + 4}" text-anchor="end">${Math.round(max * f)}</text>`);
  return `<div class="legend"><span><i style="background:#2e8b57"></i>ok per second</span><span><i style="background:#d62728"></i>info + fail per second</span></div>
<svg width="${WIDTH}" height="${top + height + 30}" viewBox="0 0 ${WIDTH} ${top + height + 30}">
${grid.join('\n')}${faultShading(input, top, height)}${line(buckets, '#2e8b57')}${line(notOk, '#d62728')}${timeAxis(input.stats.durationMs, top + height)}
</svg>`;
}

function anomalySection(anomaly: Anomaly, input: HtmlReportInput): string {
  const text = `<pre>${esc([`${anomaly.kind.toUpperCase()}: ${anomaly.summary}`, ...anomaly.details].join('\n'))}</pre>`;
  if (anomaly.kind !== 'linearizability' || !anomaly.opIds) return text;
  return `<h3>${esc(anomaly.key ?? '')}</h3>${text}${keyTimeline(anomaly, input)}`;
}

/** The operations on one key around the one that cannot be linearized: a lane per client, a bar per operation. */
function keyTimeline(anomaly: Anomaly, input: HtmlReportInput): string {
  const byId = new Map(input.ops.map((op) => [op.id, op]));
  const ops = (anomaly.opIds ?? []).map((id) => byId.get(id)).filter((op): op is OpRecord => op !== undefined);
  const stuck = byId.get(anomaly.stuckId ?? -1);
  if (!stuck || ops.length === 0) return '';
  // Window: the 12 operations on the key that returned before the stuck one was called, to a little after it.
  const before = ops.filter((op) => op.end <= stuck.start).sort((a, b) => b.end - a.end).slice(0, 12);
  const from = Math.min(stuck.start, ...before.map((op) => op.start)) - 20;
  const to = stuck.end + Math.max(20, (stuck.end - from) * 0.15);
  const shown = ops.filter((op) => op.start <= to && (op.outcome === 'info' || op.end >= from));
  const lanes = [...new Set(shown.map((op) => `${op.client}@${op.node}`))].sort();
  const laneHeight = 26;
  const top = 10;
  const height = top + lanes.length * laneHeight + 30;
  const x = (t: number) => LEFT + 60 + ((t - from) / (to - from)) * (WIDTH - LEFT - 60 - RIGHT);
  const bars = shown.map((op) => {
    const lane = lanes.indexOf(`${op.client}@${op.node}`);
    const y0 = top + lane * laneHeight;
    const x0 = Math.max(LEFT + 60, x(op.start));
    const x1 = op.outcome === 'info' ? WIDTH - RIGHT : Math.min(WIDTH - RIGHT, Math.max(x0 + 3, x(op.end)));
    const q = (v: string | null | undefined) => (v === null || v === undefined ? 'nil' : v);
    const label = op.type === 'read' ? `r ${op.outcome === 'ok' ? q(op.result) : '?'}` : op.type === 'write' ? `w ${q(op.value)}` : `cas ${q(op.expected)}→${q(op.value)}${op.outcome === 'ok' ? (op.swapped ? ' ✓' : ' ✗') : ' ?'}`;
    const color = op.outcome === 'ok' ? TYPE_COLOR[op.type] : op.outcome === 'info' ? '#d62728' : '#999';
    const isStuck = op.id === stuck.id;
    return `<g><title>${esc(`#${op.id} ${op.client} on ${op.node} ${op.type} [${(op.start / 1000).toFixed(3)}s, ${(op.end / 1000).toFixed(3)}s] ${op.outcome}`)}</title>
<rect x="${x0.toFixed(1)}" y="${y0 + 4}" width="${(x1 - x0).toFixed(1)}" height="${laneHeight - 8}" fill="${color}" opacity="${op.outcome === 'info' ? 0.35 : 0.75}" stroke="${isStuck ? '#000' : 'none'}" stroke-width="2"/>
<text x="${(x0 + 3).toFixed(1)}" y="${y0 + laneHeight / 2 + 4}" style="fill:#000">${esc(label)}</text></g>`;
  });
  const laneLabels = lanes.map((l, i) => `<text x="${LEFT + 54}" y="${top + i * laneHeight + laneHeight / 2 + 4}" text-anchor="end">${esc(l.replace('@', ' on '))}</text>`);
  const ticks: string[] = [];
  for (let i = 0; i <= 6; i++) {
    const t = from + ((to - from) * i) / 6;
    ticks.push(`<text x="${x(t).toFixed(1)}" y="${height - 8}" text-anchor="middle">${(t / 1000).toFixed(3)}s</text>`);
  }
  return `<p>Operations on ${esc(anomaly.key ?? '')} around the one that cannot be linearized (outlined); red bars are indeterminate (may take effect any time after their call).</p>
<svg width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${laneLabels.join('')}${bars.join('\n')}${ticks.join('')}</svg>`;
}
