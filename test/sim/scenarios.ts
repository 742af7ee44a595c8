/**
 * Targeted fault patterns: histories that random faults alone reach too
 * rarely to catch the bugs they expose (each is checked by the mutation gate,
 * scripts/mutants.ts). They use only what a hostile network and crashing
 * machines can do: cut links, lose what a dying process had just sent, crash.
 *
 * - **Figure 8** (Raft paper §5.4.2, Figure 8), directed step by step:
 *   1. the leader L1 of term t1 is cut off and takes proposals it cannot
 *      replicate (entries of t1 that only it holds);
 *   2. the others elect L2 in a later term, which is cut off the moment it
 *      wins, so its own entries (a newer term, at the same indexes) stay on it;
 *   3. L1 comes back and wins a third term; as soon as a majority of voters
 *      (L1 included) hold one of its uncommitted entries of t1 by the
 *      acknowledgements L1 got, and before its entries of its own term reach
 *      them, L1 crashes and what it sent in that turn is lost;
 *   4. L2 comes back: its last term is newer than what the others hold, so it
 *      wins and overwrites those entries of t1. A leader that committed them
 *      by counting replicas has lost a committed entry.
 *   It needs AppendEntries that carry few entries (maxEntriesPerMessage small),
 *   so L1's old entries reach a follower without its new ones; it is armed
 *   only in such seeds.
 * - **Old-term ack crash**: the same crash as step 3, at random, whenever a
 *   leader learns that a voter holds one of its uncommitted entries of an
 *   earlier term and none of its own yet.
 * - **Learner majority** (dissertation §4.2.1): as soon as the leader's
 *   configuration has a learner, the leader's links to voters are cut so that
 *   the leader, its learners and the voters it still talks to are as many as
 *   a majority of the voters, without being one; it takes proposals, then
 *   crashes, and the voters it was cut from elect another leader. A leader
 *   that counts learners toward the commit quorum commits entries a majority
 *   of voters never stored.
 *
 * - **Amnesia crash**: a node crashes right after the turn in which it voted
 *   or took entries from a leader, and the saves of that turn are lost. A node
 *   that answered before its save was durable has promised what it no longer
 *   holds: a vote it may give again in the same term, entries the leader
 *   counted toward a commit.
 *
 * - **Late TimeoutNow** (§3.10, §6.4.1): a TimeoutNow arrives long after it
 *   was sent, when its transfer may have timed out and the leader may hold a
 *   lease again; reads are issued on that leader while the target takes over.
 *   A leader that answers them from its lease serves stale data.
 *
 * Patterns are drawn from their own random stream.
 */
import type { SeededRandom } from '../../src/testing/seeded-random.js';
import type { SimNode } from './sim-node.js';
import type { Simulation } from './simulation.js';

type Figure8 =
  | { stage: 'idle' }
  | { stage: 'l1-cut-off'; l1: SimNode; t1: number; deadline: number }
  | { stage: 'l2-cut-off'; l1: SimNode; t1: number; l2: SimNode; deadline: number }
  | { stage: 'l1-leads'; l1: SimNode; t1: number; l2: SimNode; deadline: number; acked: Map<string, number> };

export class FaultPatterns {
  /** Old-term ack crashes are armed in this seed. */
  private readonly oldTermCrashes: boolean;
  /** Chance that an acknowledgement of an old-term entry crashes its leader. */
  private readonly oldTermCrashRate: number;
  /** Learner-majority partitions are armed in this seed. */
  private readonly learnerMajority: boolean;
  /** Amnesia crashes are armed in this seed, with this chance per vote or append. */
  private readonly amnesiaRate: number;
  /** TimeoutNow messages are delayed in this seed. */
  private readonly lateTimeoutNow: boolean;
  /** The Figure 8 scenario is armed in this seed. */
  private readonly figure8Armed: boolean;
  private figure8: Figure8 = { stage: 'idle' };
  /** The learner stage (leader, term, configuration index) the learner-majority pattern last considered. */
  private learnerStageSeen = '';
  /** Links cut by a pattern ("from>to"), until it ends or the network heals. */
  private readonly cut = new Set<string>();
  private active = true;

  constructor(
    private readonly sim: Simulation,
    private readonly rng: SeededRandom,
  ) {
    this.oldTermCrashes = rng.chance(0.5);
    this.oldTermCrashRate = 0.25 + rng.next() * 0.75;
    this.learnerMajority = rng.chance(0.5);
    this.amnesiaRate = rng.chance(0.5) ? 0 : 0.02 + rng.next() * 0.2;
    this.lateTimeoutNow = rng.chance(0.5);
    this.figure8Armed = sim.coreKnobs.maxEntriesPerMessage <= 4 && rng.chance(0.7);
  }

  /** A directed scenario is under way: random partitions and crashes hold off. */
  get busy(): boolean {
    return this.figure8.stage !== 'idle';
  }

  /** Ends every pattern (the network heals). */
  stop(): void {
    this.active = false;
    this.cut.clear();
    this.figure8 = { stage: 'idle' };
  }

  /** Extra latency for a message: a late TimeoutNow (0 for everything else). */
  extraDelay(payload: object): number {
    return this.active && this.lateTimeoutNow && 'timeoutNowRequest' in payload ? this.rng.range(600, 3500) : 0;
  }

  /** Before `node` handles a message from `from`: a late TimeoutNow brings reads on the leader that sent it. */
  beforeDelivery(node: SimNode, from: string, payload: Record<string, unknown>): void {
    if (!this.active || !this.lateTimeoutNow || !('timeoutNowRequest' in payload)) return;
    const sender = this.sim.byId(from);
    this.sim.stats.patterns++;
    this.sim.trace(`PATTERN late TimeoutNow: ${from} -> ${node.id} arrives; reads on ${from} follow`);
    for (const after of [5, 20, 40, 80, 150]) this.sim.schedule(this.sim.now + after, { kind: 'read', node: sender.index, generation: sender.generation });
  }

  /** True when a pattern's partition drops this message. */
  drops(from: string, to: string): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
  }

  /**
   * After `node` handled a message from `from` (its commit index was
   * `commitBefore`): a voter's acknowledgement of an uncommitted entry of an
   * earlier term may crash the leader (always, in step 3 of Figure 8).
   */
  afterDelivery(node: SimNode, from: string, payload: Record<string, unknown>, before: { commitIndex: number; votedFor: string | null; lastIndex: number }): void {
    if (!this.active || !node.alive) return;
    if (this.amnesiaRate > 0 && this.maybeAmnesia(node, payload, before)) return;
    const commitBefore = before.commitIndex;
    const directed = this.figure8.stage === 'l1-leads' && this.figure8.l1 === node;
    if (!directed && !this.oldTermCrashes) return;
    const response = payload.appendEntriesResponse as { success?: boolean; matchIndex?: string | number } | undefined;
    if (!response?.success) return;
    const core = node.core;
    if (!core.isLeader || !core.configuration.voters.includes(from)) return;
    const match = Number(response.matchIndex ?? 0);
    const term = core.log.termAt(match);
    // The follower holds an uncommitted entry of an earlier term, and none of this leader's own yet.
    if (term === undefined || term >= core.term || match <= commitBefore || match >= core.log.lastIndex()) return;
    if (directed && this.figure8.stage === 'l1-leads') {
      // Directed: once a majority (by count) holds it.
      const acked = this.figure8.acked;
      acked.set(from, Math.max(acked.get(from) ?? 0, match));
      const holders = 1 + core.configuration.voters.filter((v) => v !== node.id && (acked.get(v) ?? 0) >= match).length;
      if (holders < Math.floor(core.configuration.voters.length / 2) + 1) return;
    } else if (!this.rng.chance(this.oldTermCrashRate)) return;
    this.sim.stats.patterns++;
    this.sim.trace(`PATTERN ${directed ? 'figure 8, step 3' : 'old-term ack'}: ${node.id} (leader of ${core.term}) crashes after this turn; ${from} acknowledged ${match}/${term}`);
    this.sim.crashAfterTurn(node, directed ? 3000 : this.rng.range(600, 2000), false);
    if (directed && this.figure8.stage === 'l1-leads') this.figure8Step4(this.figure8.l2);
  }

  /** A node that just voted, or appended entries from a leader, may crash losing that turn's saves. */
  private maybeAmnesia(node: SimNode, payload: Record<string, unknown>, before: { votedFor: string | null; lastIndex: number }): boolean {
    const core = node.core;
    const voted = 'requestVoteRequest' in payload && core.votedFor !== null && core.votedFor !== before.votedFor;
    const appended = 'appendEntriesRequest' in payload && core.log.lastIndex() !== before.lastIndex;
    if (!(voted || appended) || !this.rng.chance(this.amnesiaRate)) return false;
    this.sim.stats.patterns++;
    this.sim.trace(`PATTERN amnesia: ${node.id} crashes after this turn (it ${voted ? `voted for ${core.votedFor}` : `appended up to ${core.log.lastIndex()}`}); the turn's saves are lost`);
    this.sim.crashAfterTurn(node, this.rng.range(20, 400), true);
    return true;
  }

  /** Called after every event: moves the Figure 8 scenario on, or starts a learner-majority partition. */
  afterEvent(): void {
    const f = this.figure8;
    if (f.stage === 'idle') {
      if (this.active && this.learnerMajority && this.cut.size === 0) this.maybeStartLearnerMajority();
      return;
    }
    if (this.sim.now > f.deadline || !f.l1.alive || (f.stage !== 'l1-cut-off' && !f.l2.alive)) return this.endFigure8('gave up');
    if (f.stage === 'l1-cut-off') {
      // Step 2: the others elect L2; cut it off the moment it wins, before its first AppendEntries leaves.
      const l2 = this.sim.nodes.find((n) => n.alive && n !== f.l1 && n.core.isLeader && n.core.term > f.t1);
      if (!l2) return;
      // Step 3 begins too: L1 comes back, and L2 stays cut off.
      this.release(f.l1);
      this.isolate(l2);
      this.sim.trace(`PATTERN figure 8, step 2: ${l2.id} won term ${l2.core.term} and is cut off; ${f.l1.id} comes back`);
      for (let i = 0; i < 2; i++) this.sim.propose(l2);
      this.figure8 = { stage: 'l2-cut-off', l1: f.l1, t1: f.t1, l2, deadline: this.sim.now + 4000 };
      return;
    }
    if (f.stage === 'l2-cut-off') {
      if (f.l1.core.isLeader && f.l1.core.term > f.l2.core.term) {
        this.sim.trace(`PATTERN figure 8, step 3: ${f.l1.id} leads term ${f.l1.core.term} with entries of term ${f.t1} nobody else holds`);
        this.figure8 = { stage: 'l1-leads', l1: f.l1, t1: f.t1, l2: f.l2, deadline: this.sim.now + 3000, acked: new Map() };
      }
    }
  }

  /** Called on chaos ticks: may start a pattern. Returns true when it did (the tick's other faults hold off). */
  maybeStart(): boolean {
    if (!this.active || this.busy) return false;
    return this.figure8Armed && this.rng.chance(0.1) && this.startFigure8();
  }

  /** Step 1: cut the leader off and give it entries only it will hold. */
  private startFigure8(): boolean {
    const l1 = this.sim.currentLeader();
    if (!l1 || l1.core.configuration.voters.length < 3 || this.cut.size > 0) return false;
    // The scenario owns the network from here: random partitions are healed.
    this.sim.blocked.clear();
    this.isolate(l1);
    this.sim.stats.patterns++;
    this.sim.trace(`PATTERN figure 8, step 1: ${l1.id} (leader of ${l1.core.term}) is cut off and takes proposals`);
    for (let i = 0; i < 8; i++) this.sim.propose(l1);
    this.figure8 = { stage: 'l1-cut-off', l1, t1: l1.core.term, deadline: this.sim.now + 4000 };
    return true;
  }

  /** Step 4: L2 comes back once L1 is down; its newer last term wins it the election. */
  private figure8Step4(l2: SimNode): void {
    this.release(l2);
    this.sim.trace(`PATTERN figure 8, step 4: ${l2.id} comes back`);
    this.figure8 = { stage: 'idle' };
  }

  private endFigure8(why: string): void {
    this.sim.trace(`PATTERN figure 8 ended: ${why}`);
    this.figure8 = { stage: 'idle' };
    this.cut.clear();
  }

  /** Once per learner stage, with some chance: cut the leader off from all but (majority of voters - 1 - learners) voters. */
  private maybeStartLearnerMajority(): void {
    const leader = this.sim.currentLeader();
    if (!leader) return;
    const config = leader.core.configuration;
    if (config.learners.length === 0) return;
    const stage = `${leader.id}:${leader.core.term}:${leader.core.latestConfigurationIndex}`;
    if (stage === this.learnerStageSeen) return;
    this.learnerStageSeen = stage;
    if (!this.rng.chance(0.5)) return;
    const votersKept = Math.max(0, Math.floor(config.voters.length / 2) - config.learners.length);
    const others = config.voters.filter((v) => v !== leader.id);
    const kept = new Set(this.shuffled(others).slice(0, votersKept));
    for (const voter of others) if (!kept.has(voter)) this.cutLink(leader.id, voter);
    this.sim.stats.patterns++;
    this.sim.trace(`PATTERN learner majority: ${leader.id} keeps learners ${config.learners.join(',')} and voters ${[...kept].join(',') || '(none)'}; cut ${[...this.cut].join(' ')}`);
    // Proposals on the leader, then it crashes: the voters it was cut from elect another.
    for (let i = 0; i < 3; i++) this.sim.propose(leader);
    this.sim.crashAt(leader, this.sim.now + this.rng.range(100, 600), this.rng.range(600, 2000), () => this.cut.clear());
  }

  private cutLink(a: string, b: string): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  private isolate(node: SimNode): void {
    for (const other of this.sim.ids) if (other !== node.id) this.cutLink(node.id, other);
  }

  private release(node: SimNode): void {
    for (const link of [...this.cut]) {
      const [a, b] = link.split('>');
      if (a === node.id || b === node.id) this.cut.delete(link);
    }
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }
}
