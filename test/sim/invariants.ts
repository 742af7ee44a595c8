/**
 * The simulation's safety checks (Raft §5.2-§5.4, dissertation §4 and §6),
 * made on the running nodes after every event and on what their storage,
 * state machines and public API report. Registries span the whole run, across
 * crashes and restarts: what one node committed, applied or was told binds
 * every other.
 */
import { isMember, isVoter, members } from '../../src/core/membership.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { Configuration, LogEntry, Snapshot } from '../../src/core/types.js';
import type { AppliedCommand, SimNode } from './sim-node.js';

export class SimFailure extends Error {}

interface CommittedRecord {
  term: number;
  fingerprint: string;
  by: string;
}

export function fingerprint(entry: LogEntry): string {
  return `${entry.term}|${entry.type}|${entry.clientId ?? ''}|${entry.sequence ?? 0}|${entry.firstOutstandingSequence ?? 0}|${
    entry.command === undefined ? '' : JSON.stringify(entry.command)
  }|${entry.configuration ? JSON.stringify(entry.configuration) : ''}`;
}

export function configKey(config: Configuration): string {
  return `voters [${config.voters.join(',')}] learners [${config.learners.join(',')}]`;
}

/**
 * A node may campaign (and lead) when it is a voter of its latest
 * configuration, or when that configuration removes it, is not committed yet,
 * and it was a voter of the configuration before (computed here from the log,
 * independently of the core's own bookkeeping).
 */
export function mayCampaign(core: RaftCore, id: string): boolean {
  if (isVoter(core.configuration, id)) return true;
  const index = core.latestConfigurationIndex;
  return index > core.commitIndex && isVoter(core.configurationAt(index - 1), id);
}

export class Invariants {
  /** Term -> the node its core made leader. */
  readonly leaderOfTerm = new Map<number, string>();
  /** Term -> the node that reported itself leader of it through the public API. */
  private readonly publicLeaderOfTerm = new Map<number, string>();
  /** Term -> highest commit index its leader reached (what that term committed). */
  private readonly committedInTerm = new Map<number, number>();
  /** `${index}:${term}` -> entry fingerprint and the term of the entry before it (log matching). */
  private readonly logRegistry = new Map<string, { fingerprint: string; prevTerm: number | undefined }>();
  /** Index -> the entry committed there, as first handed out for application (state machine safety). */
  readonly committed: CommittedRecord[] = [];
  /** Command id -> index where it was applied (exactly once across the cluster). */
  readonly appliedAt = new Map<string, number>();
  /** Command id -> index its proposer was told it was applied at. */
  readonly settled = new Map<string, number>();
  /** Highest commit index any node ever reported: everything up to it is committed. */
  maxCommit = 0;
  /** Committed configuration entries in index order. */
  readonly committedConfigs: { index: number; config: string; voters: string[]; members: string[] }[] = [];
  /** `addVoter:x` / `remove:x` -> how many such requests were issued. */
  private readonly issuedChanges = new Map<string, number>();
  /** `addVoter:x` (x became a voter) / `remove:x` (x left) -> how many committed configurations did it. */
  private readonly committedChanges = new Map<string, number>();
  private lastCommittedConfig: Configuration | null = null;
  /** Terms whose leader was first seen, for the statistics. */
  leaders = 0;

  constructor(
    private readonly fail: (message: string) => never,
    private readonly trace: (line: string) => void,
    /** Most entries a log may keep behind its snapshot (RaftInterface's snapshotCatchUpEntries). */
    private readonly catchUpEntries: number,
  ) {}

  // ------------------------------------------------------------ per event

  /** Every check on the running nodes after an event. */
  checkNodes(nodes: readonly SimNode[]): void {
    for (const node of nodes) if (node.alive && node.core.commitIndex > this.maxCommit) this.maxCommit = node.core.commitIndex;
    for (const node of nodes) if (node.alive) this.checkNode(node);
  }

  /** Every check on one running node after an event. */
  private checkNode(node: SimNode): void {
    const core = node.core;
    if (core.isLeader) {
      const known = this.leaderOfTerm.get(core.term);
      if (known === undefined) {
        this.leaderOfTerm.set(core.term, node.id);
        this.leaders++;
        this.trace(`${node.id} is LEADER of term ${core.term} (log ${core.log.firstIndex()}..${core.log.lastIndex()}, commit ${core.commitIndex}, config ${configKey(core.configuration)})`);
        // Election safety with changing voter sets: only a voter of its own configuration wins.
        if (!mayCampaign(core, node.id)) this.fail(`${node.id} became leader of term ${core.term} but is not a voter of its configuration ${configKey(core.configuration)}`);
        this.checkLeaderCompleteness(node);
      } else if (known !== node.id) {
        this.fail(`election safety: ${known} and ${node.id} are both leaders of term ${core.term}`);
      }
      if ((this.committedInTerm.get(core.term) ?? 0) < core.commitIndex) this.committedInTerm.set(core.term, core.commitIndex);
      this.checkPendingConfigurations(node);
    }
    if (core.state === 'candidate' && !mayCampaign(core, node.id)) {
      this.fail(`${node.id} campaigns (term ${core.term}) but is not a voter of its configuration ${configKey(core.configuration)}`);
    }
    const log = core.log;
    if (core.configuration !== node.checkedConfig || log.lastIndex() < node.checkedLast || log.snapshotIndex !== node.checkedSnapshot) this.checkConfiguration(node);
    node.checkedLast = log.lastIndex();
    // Bounded log: the entries a snapshot covers that stay in memory for followers still installing an older one.
    if (log.snapshotIndex - log.firstIndex() + 1 > this.catchUpEntries) {
      this.fail(`${node.id} keeps ${log.snapshotIndex - log.firstIndex() + 1} entries behind its snapshot at ${log.snapshotIndex}, more than ${this.catchUpEntries}`);
    }
    if (core.term < node.maxTerm) this.fail(`${node.id} term went back from ${node.maxTerm} to ${core.term}`);
    node.maxTerm = core.term;
    if (core.commitIndex < node.maxCommit) this.fail(`${node.id} commit index went back from ${node.maxCommit} to ${core.commitIndex}`);
    node.maxCommit = core.commitIndex;
    const applied = node.raft.status().lastApplied;
    if (applied < node.maxApplied) this.fail(`${node.id} applied index went back from ${node.maxApplied} to ${applied}`);
    node.maxApplied = applied;
    if (applied > core.commitIndex) this.fail(`${node.id} applied ${applied} beyond its commit index ${core.commitIndex}`);
    this.checkPublicView(node);
  }

  /**
   * The public view (getters and status()) is one consistent view, and a node
   * reports 'leader' only in a term it leads: no two nodes ever report
   * themselves leader of the same term.
   */
  checkPublicView(node: SimNode): void {
    const raft = node.raft;
    const status = raft.status();
    const { state, isLeader, leaderID, currentTerm } = raft;
    if (status.state !== state || status.term !== currentTerm || status.leader !== leaderID || isLeader !== (state === 'leader')) {
      this.fail(
        `public view: ${node.id} getters say ${state}/${isLeader ? 'isLeader' : 'not leader'} term ${currentTerm} leader ${leaderID}, ` +
          `status() says ${status.state} term ${status.term} leader ${status.leader}`,
      );
    }
    if (!isLeader) return;
    const core = node.core;
    if (!core.isLeader || core.term !== currentTerm) {
      this.fail(`public view: ${node.id} reports itself leader of term ${currentTerm} but is ${core.state} in term ${core.term}`);
    }
    const known = this.publicLeaderOfTerm.get(currentTerm);
    if (known === undefined) this.publicLeaderOfTerm.set(currentTerm, node.id);
    else if (known !== node.id) this.fail(`public view: ${known} and ${node.id} both report themselves leader of term ${currentTerm}`);
  }

  /**
   * At most one configuration change is uncommitted in a leader's log (§4.1):
   * every configuration entry a leader appends follows one it knew committed,
   * so above the cluster's commit index a log holds at most one.
   */
  private checkPendingConfigurations(node: SimNode): void {
    const log = node.core.log;
    let pending = 0;
    for (let i = Math.max(this.maxCommit, log.snapshotIndex) + 1; i <= log.lastIndex(); i++) {
      if (log.entryAt(i)?.type === 'configuration' && ++pending > 1) {
        this.fail(`leader ${node.id} (term ${node.core.term}) has two uncommitted configuration entries (the second at ${i}; cluster commit ${this.maxCommit})`);
      }
    }
  }

  /**
   * A node's configuration is the latest one in its log, or its snapshot's
   * when the log holds none (dissertation §4.1): so two nodes whose logs
   * match at an index (log matching) use the same configuration there.
   */
  checkConfiguration(node: SimNode): void {
    const core = node.core;
    const log = core.log;
    node.checkedConfig = core.configuration;
    node.checkedSnapshot = log.snapshotIndex;
    let expected: Configuration | undefined;
    let from = 'its snapshot';
    for (let i = log.lastIndex(); i > log.snapshotIndex; i--) {
      const entry = log.entryAt(i);
      if (entry?.type === 'configuration' && entry.configuration) {
        expected = entry.configuration;
        from = `its entry ${i}/${entry.term}`;
        break;
      }
    }
    expected ??= core.latestSnapshot?.configuration;
    if (expected === undefined) {
      if (log.lastIndex() === 0) return;
      this.fail(`${node.id} has a log ${log.firstIndex()}..${log.lastIndex()} without configuration entry or snapshot, and uses ${configKey(core.configuration)}`);
    }
    if (configKey(expected) !== configKey(core.configuration)) {
      this.fail(`${node.id} uses configuration ${configKey(core.configuration)} but ${from} says ${configKey(expected)} (log ${log.firstIndex()}..${log.lastIndex()})`);
    }
  }

  /**
   * Leader completeness (§5.4): every entry committed in an earlier term is in
   * the new leader's log. Only earlier terms: a leader of a lower term can
   * still be elected after a higher term committed (its votes were cast
   * before, and arrive late); it just cannot commit anything.
   */
  private checkLeaderCompleteness(node: SimNode): void {
    const log = node.core.log;
    let required = 0;
    for (const [term, commit] of this.committedInTerm) if (term < node.core.term && commit > required) required = commit;
    const end = Math.min(required + 1, this.committed.length);
    for (let i = log.firstIndex(); i < end; i++) {
      const record = this.committed[i];
      if (!record) continue;
      const term = log.termAt(i);
      if (term !== record.term) {
        this.fail(`leader completeness: ${node.id}, leader of term ${node.core.term}, has ${term === undefined ? 'no entry' : `term ${term}`} at committed index ${i} (committed with term ${record.term}, seen by ${record.by})`);
      }
    }
  }

  // ------------------------------------------------------------ log and commits

  /** Log matching (§5.3): entries with the same index and term are identical, and so are their predecessors' terms. */
  checkEntry(node: SimNode, entry: LogEntry, knownPrevTerm?: number): void {
    const key = `${entry.index}:${entry.term}`;
    const fp = fingerprint(entry);
    const prevTerm = knownPrevTerm ?? (entry.index === 1 ? 0 : node.core.log.termAt(entry.index - 1));
    const known = this.logRegistry.get(key);
    if (!known) {
      this.logRegistry.set(key, { fingerprint: fp, prevTerm });
      return;
    }
    if (known.fingerprint !== fp) this.fail(`log matching: two different entries at index ${entry.index} term ${entry.term}: ${known.fingerprint} and, on ${node.id}, ${fp}`);
    if (prevTerm !== undefined) {
      if (known.prevTerm === undefined) known.prevTerm = prevTerm;
      else if (known.prevTerm !== prevTerm) {
        this.fail(`log matching: entry ${entry.index}/${entry.term} follows term ${known.prevTerm} in one log and term ${prevTerm} on ${node.id}`);
      }
    }
  }

  /**
   * State machine safety (§5.4.3): a committed entry handed out for
   * application is the same on every node. Checked on every entry a node's
   * core hands out, noops and configurations included (the apply listener
   * only sees user commands).
   */
  committedEntry(node: SimNode, entry: LogEntry): void {
    const record: CommittedRecord = { term: entry.term, fingerprint: fingerprint(entry), by: node.id };
    const previous = this.committed[entry.index];
    if (previous === undefined) {
      this.committed[entry.index] = record;
      if (entry.type === 'configuration' && entry.configuration) {
        const last = this.committedConfigs[this.committedConfigs.length - 1];
        if (last && last.index >= entry.index) this.fail(`committed configuration at ${entry.index} first handed out after the one at ${last.index}`);
        this.committedConfigs.push({ index: entry.index, config: configKey(entry.configuration), voters: [...entry.configuration.voters], members: members(entry.configuration) });
        this.checkMembershipChange(entry.index, entry.configuration);
        this.trace(`${node.id} commits configuration ${entry.index}/${entry.term} ${configKey(entry.configuration)}`);
      }
    } else if (previous.fingerprint !== record.fingerprint) {
      this.fail(`state machine safety: index ${entry.index} committed as ${previous.fingerprint} on ${previous.by} but as ${record.fingerprint} on ${node.id}`);
    }
  }

  // ------------------------------------------------------------ state machine

  /** One admitted command applied by `node` (through the public `apply` event). */
  applied(node: SimNode, id: string, index: number, term: number): void {
    if (node.machineIds.has(id)) this.fail(`exactly once: ${node.id} applied command ${id} twice (again at index ${index}, term ${term})`);
    const last = node.machine[node.machine.length - 1];
    if (last && last.i >= index) this.fail(`${node.id} applies index ${index} after ${last.i} (not in order)`);
    const record = this.committed[index];
    if (!record || record.term !== term) this.fail(`${node.id} applies ${id} at ${index}/${term}, but ${record ? `term ${record.term}` : 'nothing'} was committed there`);
    node.machineIds.add(id);
    node.machine.push({ i: index, id });
    const at = this.appliedAt.get(id);
    if (at === undefined) this.appliedAt.set(id, index);
    else if (at !== index) this.fail(`exactly once: command ${id} applied at index ${at} and, by ${node.id}, at ${index}`);
  }

  /** A proposal resolved: it was applied at `index`, where exactly this command was applied. */
  settle(node: SimNode, id: string, index: number): void {
    const at = this.appliedAt.get(id);
    if (at !== index) this.fail(`proposal ${id} of ${node.id} resolved as applied at ${index}, but it was applied ${at === undefined ? 'nowhere' : `at ${at}`}`);
    this.settled.set(id, index);
  }

  /** A snapshot's state machine holds exactly what was applied up to its index. */
  checkSnapshotData(node: SimNode, snapshot: { index: number }, data: AppliedCommand[]): void {
    const ids = new Set<string>();
    for (const c of data) {
      if (ids.has(c.id)) this.fail(`exactly once: snapshot at ${snapshot.index} holds command ${c.id} twice`);
      ids.add(c.id);
      if (c.i > snapshot.index || this.appliedAt.get(c.id) !== c.i) {
        this.fail(`snapshot at ${snapshot.index} on ${node.id} holds ${c.id} at ${c.i}, but it was applied ${this.appliedAt.has(c.id) ? `at ${this.appliedAt.get(c.id)}` : 'nowhere'}`);
      }
    }
  }

  // ------------------------------------------------------------ membership

  countIssued(changeType: 'addVoter' | 'remove', address: string): void {
    const key = `${changeType}:${address}`;
    this.issuedChanges.set(key, (this.issuedChanges.get(key) ?? 0) + 1);
  }

  /**
   * Membership requests are carried out at most once: no address becomes a
   * voter, or leaves, more often than such a change was requested (a retried
   * request carried out again would exceed it).
   */
  private checkMembershipChange(index: number, next: Configuration): void {
    const previous = this.lastCommittedConfig;
    this.lastCommittedConfig = { voters: [...next.voters], learners: [...next.learners] };
    if (!previous) return;
    const changes: string[] = [];
    for (const address of next.voters) if (!previous.voters.includes(address)) changes.push(`addVoter:${address}`);
    for (const address of members(previous)) if (!isMember(next, address)) changes.push(`remove:${address}`);
    for (const key of changes) {
      const committed = (this.committedChanges.get(key) ?? 0) + 1;
      this.committedChanges.set(key, committed);
      const issued = this.issuedChanges.get(key) ?? 0;
      if (committed > issued) {
        this.fail(`membership at most once: ${key} committed ${committed} times (at ${index}, ${configKey(previous)} -> ${configKey(next)}) but requested ${issued} times`);
      }
    }
  }

  /** Membership travels in snapshots: a snapshot's configuration is the committed one in force at its index. */
  checkSnapshotConfiguration(node: SimNode, snapshot: Snapshot, what: string): void {
    const expected = this.committedConfigurationAt(snapshot.index);
    if (expected !== undefined && configKey(snapshot.configuration) !== expected) {
      this.fail(`snapshot ${what} on ${node.id} at ${snapshot.index} holds configuration ${configKey(snapshot.configuration)}, but ${expected} was in force at that index`);
    }
  }

  /** The committed configuration in force at `index`, once entries that far were handed out somewhere. */
  private committedConfigurationAt(index: number): string | undefined {
    if (index >= this.committed.length) return undefined;
    const list = this.committedConfigs;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].index <= index) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? list[found].config : undefined;
  }

  /** The latest committed configuration (members), if any. */
  latestCommittedMembers(): string[] | undefined {
    return this.committedConfigs[this.committedConfigs.length - 1]?.members;
  }
}
