/**
 * Runs the fault schedule (schedule.ts) against the cluster: starts each
 * fault at its time, heals it at its end, and logs both with timestamps.
 *
 * - partition-*: cuts directed links in the proxies (partitions.ts) over the
 *   current voters, `stall` or `reset`; heal: every link up.
 * - pause: SIGSTOP the target(s) (the leader, a random voter, or a minority);
 *   heal: SIGCONT.
 * - crash: SIGKILL the target(s) (leader, random, minority, majority, all),
 *   restart each on its own data directory `downMs` later.
 * - clock: every running node's DriftClock gets a rate in [0.9, 1.1] and,
 *   without lease reads, a forward jump of up to 1.5 s; heal: rate 1 (the
 *   offset stays: a clock never goes back).
 * - membership: if a slot is not a voter (the spare, or the last node
 *   removed), it is stopped, wiped and started empty, then `join`ed through a
 *   running voter; otherwise a voter (the leader one time in three) is removed
 *   with `leave` and keeps running, removed, until it is reused. Requests are
 *   retried (join and leave are idempotent) until one succeeds; the fault's
 *   window is from the first request to the success. A `changeMembership`
 *   fault would be one more case here (joint consensus), with the same retries.
 */
import { SeededRandom } from '../../src/testing/seeded-random.js';
import type { Cluster } from './cluster.js';
import { partition, type PartitionKind } from './partitions.js';
import { familyOf, formatScheduledFault, type FaultFamily, type FaultKind, type ScheduledFault } from './schedule.js';

export interface FaultRecord {
  id: number;
  kind: FaultKind;
  family: FaultFamily;
  /** ms since the start of the run; `endMs` is null while active. */
  startMs: number;
  endMs: number | null;
  /** What it did, resolved at run time (victims, cuts). */
  description: string;
  /** Whether the leader was among its targets (pause, crash, isolate). */
  hitLeader: boolean;
}

type Heal = () => Promise<void>;

const MEMBERSHIP_REQUEST_TIMEOUT_MS = 5000;
/** After the final heal, how long a membership change may still take. */
const MEMBERSHIP_GRACE_MS = 60_000;

export class Nemesis {
  readonly records: FaultRecord[] = [];
  /** Liveness failures worth reporting (a change that never completed). */
  readonly problems: string[] = [];
  private readonly active = new Map<number, { record: FaultRecord; heal: Heal }>();
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private readonly pending: Promise<void>[] = [];
  private membershipChange: Promise<void> | null = null;
  private healing = false;
  private healStartedAt = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly faults: readonly ScheduledFault[],
    private readonly log: (line: string) => void,
    private readonly now: () => number,
  ) {}

  /** Schedules every fault relative to now (the start of the run). */
  start(): void {
    for (const fault of this.faults) {
      this.timers.push(setTimeout(() => this.track(this.begin(fault)), Math.max(0, fault.startMs - this.now())));
      if (familyOf(fault.kind) !== 'membership') this.timers.push(setTimeout(() => this.track(this.end(fault.id)), Math.max(0, fault.endMs - this.now())));
    }
  }

  /** What is active now, for the progress line. */
  current(): string {
    const parts = [...this.active.values()].map(({ record }) => `${record.kind}${record.description ? ` [${record.description}]` : ''}`);
    return parts.length > 0 ? parts.join(' + ') : 'none';
  }

  /** Cancels what is not started yet, heals everything active, and waits for a membership change in progress. */
  async healAll(): Promise<void> {
    this.healing = true;
    this.healStartedAt = this.now();
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.allSettled(this.pending);
    for (const id of [...this.active.keys()]) await this.end(id);
    this.cluster.mesh.healAll();
    for (let i = 0; i < this.cluster.processes.length; i++) this.cluster.resume(i);
    if (this.membershipChange) await this.membershipChange;
    this.log('healed: every link up, every node running, clocks at rate 1');
  }

  private track(promise: Promise<void>): void {
    const tracked = promise.catch((error: unknown) => this.log(`nemesis error: ${String(error)}`));
    this.pending.push(tracked);
  }

  private async begin(fault: ScheduledFault): Promise<void> {
    if (this.healing) return;
    const rng = new SeededRandom(fault.seed);
    const record: FaultRecord = { id: fault.id, kind: fault.kind, family: familyOf(fault.kind), startMs: this.now(), endMs: null, description: '', hitLeader: false };
    this.records.push(record);
    const leader = this.cluster.leader;
    let heal: Heal = async () => {};
    if (record.family === 'network') heal = this.beginPartition(fault, record, rng, leader);
    else if (fault.kind === 'pause') heal = this.beginPause(fault, record, rng, leader);
    else if (fault.kind === 'crash') heal = await this.beginCrash(fault, record, rng, leader);
    else if (fault.kind === 'clock') heal = await this.beginClock(fault, record);
    else {
      this.active.set(fault.id, { record, heal });
      this.log(`start ${formatScheduledFault(fault, this.names())}`);
      this.membershipChange = this.changeMembership(record, rng);
      await this.membershipChange;
      this.active.delete(fault.id);
      record.endMs = this.now();
      this.log(`done  #${record.id} membership: ${record.description}`);
      return;
    }
    this.active.set(fault.id, { record, heal });
    this.log(`start ${formatScheduledFault(fault, this.names())}: ${record.description}`);
  }

  private async end(id: number): Promise<void> {
    const entry = this.active.get(id);
    if (!entry || entry.record.family === 'membership') return;
    this.active.delete(id);
    await entry.heal();
    entry.record.endMs = this.now();
    this.log(`heal  #${id} ${entry.record.kind}`);
  }

  private names(): string[] {
    return this.cluster.slots.map((s) => s.name);
  }

  /** Voters' slot indices that run, or all running slots when that is empty. */
  private targets(): number[] {
    const voters = this.cluster.runningVoters();
    return voters.length > 0 ? voters : this.cluster.processes.map((_, i) => i).filter((i) => this.cluster.isRunning(i));
  }

  private pickTargets(target: ScheduledFault['target'], rng: SeededRandom, leader: string | null): number[] {
    const running = this.targets();
    if (running.length === 0) return [];
    const shuffled = [...running];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const voters = this.cluster.voters.length;
    const leaderIndex = leader ? this.cluster.indexOf(leader) : -1;
    switch (target) {
      case 'leader':
        return [leaderIndex >= 0 && running.includes(leaderIndex) ? leaderIndex : shuffled[0]];
      case 'minority':
        return shuffled.slice(0, Math.max(1, Math.floor((voters - 1) / 2)));
      case 'majority':
        return shuffled.slice(0, Math.floor(voters / 2) + 1);
      case 'all':
        return shuffled;
      default:
        return [shuffled[0]];
    }
  }

  private beginPartition(fault: ScheduledFault, record: FaultRecord, rng: SeededRandom, leader: string | null): Heal {
    const kind = fault.kind.slice('partition-'.length) as PartitionKind;
    // Every voter, running or not: a paused or killed one comes back into the partition.
    const nodes = [...this.cluster.voters];
    const { cuts, description } = partition(kind, nodes, leader, rng);
    const address = (name: string) => this.cluster.slots[this.cluster.indexOf(name)].address;
    this.cluster.mesh.apply(cuts.map(([a, b]) => [address(a), address(b)] as [string, string]), fault.linkMode ?? 'stall');
    record.description = `${description} (${fault.linkMode})`;
    record.hitLeader = leader !== null && cuts.some(([a, b]) => a === leader || b === leader);
    return async () => this.cluster.mesh.healAll();
  }

  private beginPause(fault: ScheduledFault, record: FaultRecord, rng: SeededRandom, leader: string | null): Heal {
    const victims = this.pickTargets(fault.target, rng, leader);
    for (const i of victims) this.cluster.pause(i);
    record.description = `SIGSTOP ${this.describeVictims(victims, leader)}`;
    record.hitLeader = victims.some((i) => this.cluster.slots[i].name === leader);
    return async () => {
      for (const i of victims) this.cluster.resume(i);
    };
  }

  private async beginCrash(fault: ScheduledFault, record: FaultRecord, rng: SeededRandom, leader: string | null): Promise<Heal> {
    const victims = this.pickTargets(fault.target, rng, leader);
    record.description = `SIGKILL ${this.describeVictims(victims, leader)}, restart after ${((fault.downMs ?? 0) / 1000).toFixed(1)}s`;
    record.hitLeader = victims.some((i) => this.cluster.slots[i].name === leader);
    await Promise.all(victims.map((i) => this.cluster.kill(i)));
    const restart = async () => {
      for (const i of victims) {
        if (this.cluster.processes[i].state === 'down') await this.cluster.start(i);
      }
    };
    const timer = setTimeout(() => this.track(restart().then(() => this.log(`restarted ${victims.map((i) => this.cluster.slots[i].name).join(' ')} (#${fault.id})`))), fault.downMs ?? 0);
    this.timers.push(timer);
    return async () => {
      clearTimeout(timer);
      await restart();
    };
  }

  private async beginClock(fault: ScheduledFault, record: FaultRecord): Promise<Heal> {
    const changed: number[] = [];
    const parts: string[] = [];
    await Promise.all(
      (fault.clocks ?? []).map(async (clock, i) => {
        if (!this.cluster.isRunning(i)) return;
        changed.push(i);
        parts.push(`${this.cluster.slots[i].name} x${clock.rate}${clock.jumpMs ? ` +${clock.jumpMs}ms` : ''}`);
        await this.cluster.request(i, { type: 'clock', rate: clock.rate, jumpMs: clock.jumpMs }, 1000);
      }),
    );
    record.description = parts.sort().join(', ');
    return async () => {
      await Promise.all(changed.map((i) => this.cluster.request(i, { type: 'clock', rate: 1, jumpMs: 0 }, 1000)));
    };
  }

  private describeVictims(victims: number[], leader: string | null): string {
    return victims.map((i) => `${this.cluster.slots[i].name}${this.cluster.slots[i].name === leader ? ' (leader)' : ''}`).join(' ') || 'nobody (no node running)';
  }

  /** One join or leave, retried until it succeeds (or the grace period after the final heal ends). */
  private async changeMembership(record: FaultRecord, rng: SeededRandom): Promise<void> {
    const cluster = this.cluster;
    const outsider = cluster.slots.findIndex((s) => !cluster.voters.includes(s.name));
    let request: { type: 'join' | 'leave'; address: string };
    if (outsider >= 0) {
      const slot = cluster.slots[outsider];
      record.description = `join ${slot.name} (wiped, started empty)`;
      await cluster.kill(outsider);
      cluster.processes[outsider].wipe();
      await cluster.start(outsider, true);
      request = { type: 'join', address: slot.address };
    } else {
      const voters = cluster.runningVoters();
      const leaderIndex = cluster.leader ? cluster.indexOf(cluster.leader) : -1;
      const victim = leaderIndex >= 0 && rng.chance(1 / 3) ? leaderIndex : rng.pick(voters.length > 0 ? voters : [0]);
      record.hitLeader = victim === leaderIndex;
      record.description = `leave ${cluster.slots[victim].name}${victim === leaderIndex ? ' (leader)' : ''}`;
      request = { type: 'leave', address: cluster.slots[victim].address };
    }
    const started = this.now();
    let attempts = 0;
    for (;;) {
      const through = rng.pick(this.targets().length > 0 ? this.targets() : [0]);
      attempts++;
      const outcome = await cluster.request(through, request, MEMBERSHIP_REQUEST_TIMEOUT_MS);
      if (outcome.kind === 'ok') break;
      if (this.healing && this.now() - this.healStartedAt > MEMBERSHIP_GRACE_MS) {
        this.problems.push(`#${record.id} ${record.description} did not complete within ${MEMBERSHIP_GRACE_MS / 1000}s after the final heal (${attempts} attempts)`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    record.description += ` (${attempts} attempt${attempts === 1 ? '' : 's'}, ${((this.now() - started) / 1000).toFixed(1)}s)`;
  }
}
