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

/**
 * Parses and validates snapshot bytes received from a peer. Returns null when
 * they are not a well-formed snapshot (nothing is trusted before this check).
 */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const s = parsed as Record<string, unknown>;
  if (!isIndex(s.index) || s.index < 1 || !isIndex(s.term) || s.term < 1) return null;
  if (!isConfiguration(s.configuration)) return null;
  if (!Array.isArray(s.sessions) || !s.sessions.every(isSession)) return null;
  if (!('data' in s)) return null;
  const snapshot: Snapshot = { index: s.index, term: s.term, configuration: s.configuration, data: s.data as JsonValue, sessions: s.sessions };
  // Absent in snapshots from before membership requests were remembered.
  if (s.membershipChanges !== undefined) {
    if (!Array.isArray(s.membershipChanges) || !s.membershipChanges.every(isMembershipChange)) return null;
    snapshot.membershipChanges = s.membershipChanges;
  }
  return snapshot;
}
