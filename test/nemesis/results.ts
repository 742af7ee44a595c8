/**
 * The results folder of a run (`<resultsRoot>/seed-<seed>/`): what is written,
 * in an order that keeps the data if rendering fails (history, summary and log
 * first, the HTML last), and how to read it back (render.ts re-renders a
 * report from a folder).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LeaderChange } from './cluster.js';
import type { OpRecord } from './history.js';
import { renderHtmlReport } from './html-report.js';
import type { FaultRecord } from './nemesis.js';
import type { Anomaly, CheckerCost, RunStats } from './report.js';

/** summary.json */
export interface RunSummary {
  seed: number;
  ok: boolean;
  command: string;
  /** Run settings for the report header, e.g. ["nodes", "3"]. */
  settings: [string, string][];
  /** Node slot names. */
  nodes: string[];
  stats: RunStats;
  checker: CheckerCost;
  anomalies: Anomaly[];
  faults: FaultRecord[];
  leaderChanges: LeaderChange[];
  leaderTimeline: { at: number; leader: string | null }[];
}

/** Writes history.jsonl, summary.json, nemesis.log, then report.html; returns the report's path. */
export function writeResults(dir: string, summary: RunSummary, ops: readonly OpRecord[], logLines: readonly string[]): string {
  writeFileSync(join(dir, 'history.jsonl'), ops.map((op) => JSON.stringify(op)).join('\n') + '\n');
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 1));
  writeFileSync(join(dir, 'nemesis.log'), logLines.join('\n') + '\n');
  return writeReport(dir, summary, ops, logLines);
}

export function writeReport(dir: string, summary: RunSummary, ops: readonly OpRecord[], logLines: readonly string[]): string {
  const path = join(dir, 'report.html');
  writeFileSync(path, renderHtmlReport({
    title: `WebRaft nemesis, seed ${summary.seed}`, command: summary.command, settings: summary.settings, stats: summary.stats,
    checker: summary.checker, anomalies: summary.anomalies, faults: summary.faults, ops,
    leaderTimeline: summary.leaderTimeline, nodes: summary.nodes, faultLog: logLines,
  }));
  return path;
}

export function readResults(dir: string): { summary: RunSummary; ops: OpRecord[]; logLines: string[] } {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  const ops = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as OpRecord);
  const logLines = readFileSync(join(dir, 'nemesis.log'), 'utf8').split('\n').filter(Boolean);
  return { summary, ops, logLines };
}
