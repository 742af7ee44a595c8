/**
 * Membership churn for the simulation (half the seeds): spare nodes started
 * with `peers: []`, join and leave issued from random nodes while proposing
 * (the leader included), removed nodes retired or kept running, re-added,
 * sometimes wiped (fresh storage, `peers: []`); and, after liveness, the
 * check that a removed node left running does not disrupt the members
 * (dissertation §4.2.3).
 */
import { bootstrapConfiguration, isMember, isVoter, members } from '../../src/core/membership.js';
import type { Configuration } from '../../src/core/types.js';
import { configKey } from './invariants.js';
import { SimStorage, type SimNode } from './sim-node.js';
import type { Simulation } from './simulation.js';

export class Churn {
  /** Addresses whose join() resolved: each must be a voter of some committed configuration. */
  private readonly joined = new Set<string>();

  constructor(
    private readonly sim: Simulation,
    readonly enabled: boolean,
    private readonly initialVoters: string[],
  ) {}

  describe(): string {
    return this.enabled ? ` churn: voters ${this.initialVoters.join(',')}, spares ${this.sim.ids.slice(this.initialVoters.length).join(',')}` : '';
  }

  /** The configuration as the running leader of the highest term sees it, else as the most advanced running node does. */
  private viewConfiguration(): Configuration | null {
    const leader = this.sim.currentLeader();
    if (leader) return leader.core.configuration;
    let best: SimNode | null = null;
    for (const n of this.sim.nodes) {
      if (!n.alive || n.core.configuration.voters.length === 0) continue;
      if (!best || n.core.term > best.core.term || (n.core.term === best.core.term && n.core.log.lastIndex() > best.core.log.lastIndex())) best = n;
    }
    return best ? best.core.configuration : null;
  }

  /** The latest configuration in a node's durable state (what it restarts with). */
  private durableConfiguration(node: SimNode): Configuration {
    const d = node.storage.durable;
    for (let i = d.entries.length - 1; i >= 0; i--) {
      const e = d.entries[i];
      if (e.type === 'configuration' && e.configuration) return e.configuration;
    }
    if (d.snapshot) return d.snapshot.configuration;
    if (!d.hardState && d.entries.length === 0) return bootstrapConfiguration(node.id, node.peers);
    return { voters: [], learners: [] };
  }

  /**
   * True when the cluster has removed `node`, so wiping its storage loses no
   * vote or entry the cluster needs: it is not a member of the latest committed
   * configuration, and no other node (running or not) counts it a member. The
   * node's own view does not matter: one removed while it was down never
   * learned of it, and wiping it then is how an operator replaces it.
   */
  private safeToWipe(node: SimNode): boolean {
    const committed = this.sim.invariants.latestCommittedMembers();
    if (committed && committed.includes(node.id)) return false;
    for (const n of this.sim.nodes) {
      if (n === node) continue;
      const config = n.alive ? n.core.configuration : this.durableConfiguration(n);
      if (isMember(config, node.id)) return false;
    }
    return true;
  }

  /** Restarts a node with empty storage and peers []: a new server under the old address. */
  private wipe(node: SimNode): void {
    this.sim.stopRun(node);
    node.storage = new SimStorage(this.sim, node);
    node.peers = [];
    node.epoch++;
    node.retired = false;
    this.sim.stats.wipes++;
    this.sim.trace(`${node.id} WIPED (fresh storage, peers [])`);
    this.sim.startNode(node);
  }

  private retire(node: SimNode, why: string): void {
    this.sim.stopRun(node);
    node.retired = true;
    this.sim.trace(`${node.id} RETIRED (${why})`);
  }

  /** One membership action: add a spare or removed node (re-adding it, wiped or not), remove a member (sometimes the leader), or retire a removed node. */
  action(): void {
    const { sim } = this;
    const rng = sim.rng;
    const config = this.viewConfiguration();
    if (!config) return;
    const outsiders = sim.nodes.filter((n) => !isMember(config, n.id));
    const roll = rng.next();
    if (roll < 0.2 && outsiders.some((n) => n.alive)) {
      // Retire a removed node: stopped for good unless it is added again.
      this.retire(rng.pick(outsiders.filter((n) => n.alive)), 'removed, stopped');
      sim.stats.retired++;
      return;
    }
    let changeType: 'addVoter' | 'remove';
    let target: SimNode;
    if (roll < 0.6 && outsiders.length > 0) {
      changeType = 'addVoter';
      target = rng.pick(outsiders);
      const wasMember = target.peers.length > 0 || target.storage.durable.hardState !== null;
      if (wasMember && (!target.alive || rng.chance(0.5)) && this.safeToWipe(target)) this.wipe(target);
      else if (!target.alive) {
        target.retired = false;
        sim.trace(`${target.id} restarted from storage to be re-added`);
        sim.startNode(target);
      }
    } else {
      const all = members(config);
      if (all.length <= 1) return;
      changeType = 'remove';
      const leader = sim.currentLeader();
      target = leader && rng.chance(0.3) ? leader : sim.byId(rng.pick(all));
    }
    const running = sim.nodes.filter((n) => n.alive);
    if (running.length === 0) return;
    this.request(rng.pick(running), changeType, target.id);
  }

  /** `from` asks for a change through the public API (join or leave); returns a promise of its outcome. */
  request(from: SimNode, changeType: 'addVoter' | 'remove', address: string): Promise<boolean> {
    const { sim } = this;
    sim.invariants.countIssued(changeType, address);
    sim.stats.membershipIssued++;
    sim.trace(`${from.id} asks ${changeType} ${address} (${from.raft.state}, leader ${from.raft.leaderID}, config ${configKey(from.core.configuration)})`);
    const call = changeType === 'addVoter' ? from.raft.join(address) : from.raft.leave(address);
    return call.then(
      () => {
        sim.guard(() => {
          sim.trace(`${from.id} ${changeType} ${address}: ok`);
          sim.stats.membershipOk++;
          if (changeType === 'addVoter') this.joined.add(address);
        });
        return true;
      },
      (error: { code?: string }) => {
        sim.trace(`${from.id} ${changeType} ${address}: ${error.code}`);
        return false;
      },
    );
  }

  /**
   * Without PreVote and CheckQuorum nothing stops a removed server that never
   * learned of its removal from disrupting the cluster with higher terms
   * (dissertation §4.2.3; WebRaft enables both by default). For liveness in
   * such seeds, operators would stop it: removed nodes that may still
   * campaign are retired. That includes a node whose own log holds its
   * removal uncommitted: it stays promotable until the removal commits, which
   * it never hears of once the leader stops replicating to it.
   */
  retireDisruptors(): void {
    const leader = this.sim.currentLeader();
    if (!leader) return;
    for (const node of this.sim.nodes) {
      if (!node.alive || isMember(leader.core.configuration, node.id) || !node.core.promotable) continue;
      this.retire(node, 'for liveness: removed, would disrupt without PreVote/CheckQuorum');
    }
  }

  /** A retired node that some configuration still (or again) names is restarted from its storage. */
  reviveRetiredMembers(): void {
    const { sim } = this;
    for (const node of sim.nodes) {
      if (node.alive || !node.retired) continue;
      // With a leader, its configuration decides (as in retireDisruptors: otherwise a removed node's stale
      // configuration revives what the leader's retires, forever). Without one, any running node's does, or
      // the node's own (when churn retired every member of the last configuration, no running node names them).
      const leader = sim.currentLeader();
      const named = leader
        ? isMember(leader.core.configuration, node.id)
        : isMember(this.durableConfiguration(node), node.id) || sim.nodes.some((n) => n.alive && isMember(n.core.configuration, node.id));
      if (named) {
        node.retired = false;
        sim.trace(`${node.id} is a member again: restart from storage`);
        sim.startNode(node);
      }
    }
  }

  /**
   * After liveness: the leader removes a follower that keeps running (it
   * never hears of its removal: the leader stops replicating to it at once),
   * then for a quiet while no message of a non-member may change a member's
   * term or leader, and the leader and every member's term stay put
   * (dissertation §4.2.3: needs PreVote or CheckQuorum's lease).
   */
  async disruptionPhase(): Promise<void> {
    const { sim } = this;
    if (!sim.coreKnobs.preVote) {
      // Without PreVote a removed server's higher-term RequestVote can bump the term of a member
      // that is between leaders (its lease lapsed): Raft needs PreVote for §4.2.3 (etcd documents
      // the same). PreVote is WebRaft's default; only seeds with it are held to the rule.
      sim.trace('disruption phase skipped: PreVote off');
      return;
    }
    let leader = sim.currentLeader();
    if (!leader) sim.fail('disruption phase: no leader after liveness');
    // Let transfers issued during the faults run out first.
    while (sim.now < sim.lastTransferDeadline + 50) if (!(await sim.step())) break;
    leader = sim.currentLeader();
    if (!leader) return;
    const followers = leader.core.configuration.voters.filter((v) => v !== leader!.id && sim.byId(v).alive);
    if (followers.length > 0 && leader.core.configuration.voters.length >= 3) {
      const victim = sim.rng.pick(followers);
      sim.trace(`${leader.id} (leader) removes ${victim}, which keeps running`);
      let done = false;
      void this.request(leader, 'remove', victim).then(() => (done = true));
      const deadline = sim.now + 4000;
      while (!done && sim.now < deadline) if (!(await sim.step())) break;
    }
    // A leader that removed itself hands over: give the cluster time to elect the next one.
    const electBy = sim.now + 5000;
    while (!sim.currentLeader() && sim.now < electBy) if (!(await sim.step())) break;
    leader = sim.currentLeader();
    if (!leader) sim.fail('disruption phase: no leader after the removal');
    const outsiders = sim.nodes.filter((n) => n.alive && !isMember(leader!.core.configuration, n.id) && isVoter(n.core.configuration, n.id));
    if (outsiders.length === 0) {
      sim.trace('disruption phase: no removed node that still counts itself a voter is running');
      return;
    }
    // Let queued membership changes finish first (one may remove the leader itself: a legitimate hand-over).
    const settleBy = sim.now + 3000;
    while (sim.now < settleBy) {
      const current = sim.currentLeader();
      if (current && current.core.latestConfigurationIndex <= current.core.commitIndex && isVoter(current.core.configuration, current.id)) break;
      if (!(await sim.step())) break;
    }
    const settled = sim.currentLeader();
    if (!settled || settled.core.latestConfigurationIndex > settled.core.commitIndex || !isVoter(settled.core.configuration, settled.id)) {
      sim.trace('disruption phase: membership did not settle; skipped');
      return;
    }
    leader = settled;
    sim.stats.disruptionChecked++;
    const config = configKey(leader.core.configuration);
    const memberNodes = members(leader.core.configuration).map((a) => sim.byId(a));
    const terms = memberNodes.map((n) => n.core.term);
    const leaderTerm = leader.core.term;
    const stableAtStart = memberNodes.every((n) => n.alive && n.core.term === leaderTerm && (n === leader || n.core.leaderId === leader!.id));
    sim.trace(`QUIET: leader ${leader.id} term ${leaderTerm}, members ${memberNodes.map((n) => n.id).join(',')}, removed but running: ${outsiders.map((n) => n.id).join(',')}`);
    sim.quietMembers = new Set(memberNodes.map((n) => n.id));
    const end = sim.now + 2500;
    while (sim.now < end) if (!(await sim.step())) break;
    sim.quietMembers = null;
    if (configKey(leader.core.configuration) !== config) {
      sim.trace('disruption phase: the configuration changed during the quiet phase (a late change); state not compared');
      return;
    }
    if (!stableAtStart) {
      // An election was still settling when the quiet phase began: only the per-message watch applies.
      sim.trace('disruption phase: members were not all following the leader at the start; end state not compared');
      return;
    }
    if (!leader.alive || !leader.core.isLeader || leader.core.term !== leaderTerm) {
      sim.fail(`disruption: leader ${leader.id} of term ${leaderTerm} is now ${leader.core.state} in term ${leader.core.term} with removed node(s) ${outsiders.map((n) => n.id).join(',')} running`);
    }
    memberNodes.forEach((n, i) => {
      if (n.core.term !== terms[i]) sim.fail(`disruption: member ${n.id}'s term went from ${terms[i]} to ${n.core.term} with removed node(s) ${outsiders.map((o) => `${o.id} (term ${o.core.term})`).join(',')} running`);
    });
  }

  /** A join reported done put its node in a committed configuration as a voter. */
  finalChecks(): void {
    for (const address of this.joined) {
      if (!this.sim.invariants.committedConfigs.some((c) => c.voters.includes(address))) this.sim.fail(`join ${address} reported success, but no committed configuration has it as a voter`);
    }
  }
}
