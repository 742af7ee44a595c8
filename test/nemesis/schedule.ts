/**
 * The fault schedule: a pure function of the seed and the options, so one
 * seed always gives the same faults at the same times with the same choices.
 * What depends on the running cluster (who leads when a fault starts, which
 * nodes are voters) is resolved at run time from a random stream the schedule
 * fixes per fault, and logged.
 *
 * The run alternates fault phases and quiet phases (for latency "outside
 * faults" and for the cluster to recover). A phase runs one to four faults of
 * different families at once (network, process, clock, membership), so
 * partitions overlap crashes, pauses, clock changes and membership changes.
 * Kinds are dealt from a shuffled deck, and the first deck is dealt fast
 * enough that every enabled kind occurs in the run when it has room for it.
 */
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { PARTITION_KINDS, type PartitionKind } from './partitions.js';

/** The groups `--faults` accepts. */
export const FAULT_GROUPS = ['partition', 'pause', 'crash', 'clock', 'membership'] as const;
export type FaultGroup = (typeof FAULT_GROUPS)[number];

export type FaultKind = `partition-${PartitionKind}` | 'pause' | 'crash' | 'clock' | 'membership';
export type FaultFamily = 'network' | 'process' | 'clock' | 'membership';

export function familyOf(kind: FaultKind): FaultFamily {
  if (kind.startsWith('partition-')) return 'network';
  if (kind === 'pause' || kind === 'crash') return 'process';
  return kind === 'clock' ? 'clock' : 'membership';
}

/** Fastest and slowest clock rates (virtual ms per real ms): their ratio, 1.1/0.9 = 1.22, stays under 1 + maxClockDrift (1.25). */
export const CLOCK_RATE_RANGE = [0.9, 1.1] as const;
/** Largest forward clock jump, ms (runs without lease reads only). */
export const MAX_CLOCK_JUMP_MS = 1500;

export interface ScheduledFault {
  id: number;
  kind: FaultKind;
  /** ms from the start of the run. */
  startMs: number;
  endMs: number;
  /** Seed of the stream for the choices made at run time (victims among the current voters). */
  seed: number;
  /** Partitions: stall (packets held) or reset (connections refused). */
  linkMode?: 'stall' | 'reset';
  /** Pause and crash: whom. `leader` is the leader when the fault starts. */
  target?: 'leader' | 'random' | 'minority' | 'majority' | 'all';
  /** Crash: restart this long after the kill (within the window). */
  downMs?: number;
  /** Clock: per node slot (index), the rate and the forward jump. */
  clocks?: { rate: number; jumpMs: number }[];
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  groups: readonly FaultGroup[];
  /** Node slots (voters plus the spare used by membership changes). */
  slots: number;
  leaseReads: boolean;
}

export interface Schedule {
  faults: ScheduledFault[];
  /** Fault and quiet phases, for the report. */
  phases: { startMs: number; faultEndMs: number; endMs: number }[];
}

const WARMUP_MS = 3000;

export function buildSchedule(options: ScheduleOptions): Schedule {
  const rng = new SeededRandom(options.seed);
  const short = options.durationMs <= 180_000;
  const faultMs: [number, number] = short ? [4000, 7000] : [5000, 20_000];
  const quietMs: [number, number] = short ? [1000, 3000] : [3000, 10_000];
  const phases: Schedule['phases'] = [];
  for (let t = WARMUP_MS; ; ) {
    const faultEnd = t + uniform(rng, faultMs);
    if (faultEnd > options.durationMs - 1000) break;
    const end = faultEnd + uniform(rng, quietMs);
    phases.push({ startMs: t, faultEndMs: faultEnd, endMs: end });
    t = end;
  }

  const kinds: FaultKind[] = [];
  for (const group of options.groups) {
    if (group === 'partition') kinds.push(...PARTITION_KINDS.map((k) => `partition-${k}` as const));
    else if (group === 'membership') kinds.push('membership', 'membership'); // a join and a leave
    else kinds.push(group);
  }
  const faults: ScheduledFault[] = [];
  if (kinds.length === 0) return { faults, phases };
  let deck = shuffle(kinds, rng);
  let firstDeal = true;
  phases.forEach((phase, p) => {
    const wanted = 1 + (rng.chance(0.5) ? 1 : 0) + (rng.chance(0.2) ? 1 : 0);
    const catchUp = firstDeal ? Math.ceil(deck.length / (phases.length - p)) : 0;
    const count = Math.min(4, Math.max(wanted, catchUp));
    const families = new Set<FaultFamily>();
    for (let i = 0; i < count; i++) {
      if (deck.length === 0) {
        deck = shuffle(kinds, rng);
        firstDeal = false;
      }
      const at = deck.findIndex((k) => !families.has(familyOf(k)));
      if (at < 0) break;
      const [kind] = deck.splice(at, 1);
      families.add(familyOf(kind));
      faults.push(describe(kind, faults.length + 1, phase, rng, options));
    }
  });
  return { faults, phases };
}

function describe(kind: FaultKind, id: number, phase: Schedule['phases'][number], rng: SeededRandom, options: ScheduleOptions): ScheduledFault {
  // Faults of a phase start together or a little apart, and end with the phase.
  const length = phase.faultEndMs - phase.startMs;
  const startMs = Math.round(phase.startMs + rng.next() * 0.25 * length);
  const endMs = Math.round(phase.faultEndMs);
  const fault: ScheduledFault = { id, kind, startMs, endMs, seed: rng.int(2 ** 31) };
  if (kind.startsWith('partition-')) fault.linkMode = rng.chance(0.5) ? 'stall' : 'reset';
  else if (kind === 'pause') fault.target = rng.chance(0.5) ? 'leader' : rng.chance(0.8) ? 'random' : 'minority';
  else if (kind === 'crash') {
    const r = rng.next();
    fault.target = r < 0.35 ? 'leader' : r < 0.65 ? 'random' : r < 0.8 ? 'minority' : r < 0.9 ? 'majority' : 'all';
    fault.downMs = Math.round(rng.next() * 0.8 * (endMs - startMs));
  } else if (kind === 'clock') {
    fault.clocks = [];
    for (let i = 0; i < options.slots; i++) {
      const rate = CLOCK_RATE_RANGE[0] + rng.next() * (CLOCK_RATE_RANGE[1] - CLOCK_RATE_RANGE[0]);
      const jumpMs = !options.leaseReads && rng.chance(0.5) ? Math.round(rng.next() * MAX_CLOCK_JUMP_MS) : 0;
      fault.clocks.push({ rate: Math.round(rate * 1000) / 1000, jumpMs });
    }
  }
  return fault;
}

/** One line per fault, for the log and the report. */
export function formatScheduledFault(fault: ScheduledFault, names: readonly string[]): string {
  const span = `${(fault.startMs / 1000).toFixed(1)}s-${(fault.endMs / 1000).toFixed(1)}s`;
  const details: string[] = [];
  if (fault.linkMode) details.push(fault.linkMode);
  if (fault.target) details.push(fault.target);
  if (fault.downMs !== undefined) details.push(`down ${(fault.downMs / 1000).toFixed(1)}s`);
  if (fault.clocks) details.push(fault.clocks.map((c, i) => `${names[i]} x${c.rate}${c.jumpMs ? ` +${c.jumpMs}ms` : ''}`).join(' '));
  return `#${fault.id} ${span} ${fault.kind}${details.length ? ` (${details.join(', ')})` : ''}`;
}

function uniform(rng: SeededRandom, [lo, hi]: readonly [number, number]): number {
  return lo + rng.next() * (hi - lo);
}

function shuffle<T>(items: readonly T[], rng: SeededRandom): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
