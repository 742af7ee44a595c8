import { formatJsonPath, JsonProblem, validateJson } from './json.js';
import type { ClientSession, Configuration, JsonValue, MembershipChangeRecord, Snapshot } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Serializes a snapshot for InstallSnapshot chunks (§7): UTF-8 JSON. */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  return encoder.encode(JSON.stringify(snapshot));
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0);

function isConfiguration(v: unknown): v is Configuration {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return isStringArray(c.voters) && isStringArray(c.learners);
}

function isSession(v: unknown): v is ClientSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.clientId === 'string' &&
    isIndex(s.lowWater) &&
    isIndex(s.lastIndex) &&
    Array.isArray(s.applied) &&
    s.applied.every((a: unknown) => {
      const r = a as Record<string, unknown>;
      return typeof a === 'object' && a !== null && isIndex(r.sequence) && isIndex(r.index) && isIndex(r.term);
    })
  );
}

function isMembershipChange(v: unknown): v is MembershipChangeRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.origin === 'string' && isIndex(r.requestId) && isIndex(r.index);
}

/** Bounds on the state machine data of an incoming snapshot (the payloads' JSON limits). */
export interface SnapshotDataLimits {
  maxJsonDepth: number;
  maxStringLength: number;
}

/**
 * Why `data` breaks `limits` (a nesting deeper than maxJsonDepth, a string or
 * key longer than maxStringLength), or null. The walk stops at maxJsonDepth,
 * so a hostile nesting cannot overflow the stack (JSON.parse accepts 200,000
 * levels; every recursive walk after it would not).
 */
function jsonLimitProblem(data: unknown, limits: SnapshotDataLimits): string | null {
  try {
    validateJson(data, { limits: { maxPayloadBytes: Number.MAX_SAFE_INTEGER, ...limits }, size: 0 }, false);
    return null;
  } catch (error) {
    if (!(error instanceof JsonProblem)) throw error;
    return `data${formatJsonPath(error.segments)}: ${error.problem}`;
  }
}

/**
 * Parses and validates snapshot bytes received from a peer (nothing is
 * trusted before this check). Returns the snapshot, or what is wrong with it.
 */
export function decodeSnapshot(bytes: Uint8Array, limits: SnapshotDataLimits): Snapshot | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    return `not UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (typeof parsed !== 'object' || parsed === null) return 'not a JSON object';
  const s = parsed as Record<string, unknown>;
  if (!isIndex(s.index) || s.index < 1 || !isIndex(s.term) || s.term < 1) return 'index or term missing or not a positive integer';
  if (!isConfiguration(s.configuration)) return 'configuration missing or malformed';
  if (!Array.isArray(s.sessions) || !s.sessions.every(isSession)) return 'sessions missing or malformed';
  if (!('data' in s)) return 'data missing';
  const problem = jsonLimitProblem(s.data, limits);
  if (problem) return problem;
  const snapshot: Snapshot = { index: s.index, term: s.term, configuration: s.configuration, data: s.data as JsonValue, sessions: s.sessions };
  // Absent in snapshots from before membership requests were remembered.
  if (s.membershipChanges !== undefined) {
    if (!Array.isArray(s.membershipChanges) || !s.membershipChanges.every(isMembershipChange)) return 'membershipChanges malformed';
    snapshot.membershipChanges = s.membershipChanges;
  }
  return snapshot;
}
