/**
 * The nemesis cluster as the harness sees it: node slots (the initial voters
 * plus one spare for membership changes), their processes, the link proxies,
 * one control and one client connection per running node, and a poller that
 * follows every node's status (leader, term, voters) four times a second.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NodeConnection, type Outcome } from './connection.js';
import { NodeProcess, type SlotConfig } from './node-process.js';
import type { ControlRequest, NodeStatus } from './protocol.js';
import { ProxyMesh } from './proxy.js';

export interface ClusterOptions {
  /** Initial voters. */
  nodes: number;
  /** Add a spare slot (for join/leave). */
  spare: boolean;
  /** Where data directories go. */
  workdir: string;
  /** Where node logs go. */
  resultsDir: string;
  /** The bundled server. */
  script: string;
  leaseReads: boolean;
  unsafeLocalReads: boolean;
  snapshotThreshold: number;
  heartbeatMs: number;
  electionTimeoutMs: number;
  /** ms since the start of the run. */
  now: () => number;
  log: (line: string) => void;
}

export interface LeaderChange {
  at: number;
  leader: string;
  term: number;
}

const POLL_MS = 250;
const STATUS_TIMEOUT_MS = 800;
/** A status older than this does not count for "who leads". */
const FRESH_MS = 1500;

export class Cluster {
  readonly slots: SlotConfig[] = [];
  readonly processes: NodeProcess[] = [];
  readonly mesh: ProxyMesh;
  /** Latest status per slot, with when it was received. */
  readonly statuses: ({ status: NodeStatus; at: number } | null)[] = [];
  /** Slot names of the voters, from the leader's (or latest) status. */
  voters: string[];
  leader: string | null = null;
  /** Every new (leader, term) seen; the first is the initial election. */
  readonly leaderChanges: LeaderChange[] = [];
  /** Who the harness saw as leader over time: a point at every change (null: none known). */
  readonly leaderTimeline: { at: number; leader: string | null }[] = [];
  /** Processes that exited on their own (a node must never end by itself). */
  readonly unexpectedExits: string[] = [];
  private readonly control: (NodeConnection | null)[] = [];
  private readonly clients: (NodeConnection | null)[] = [];
  /** The `peers` each slot was first started with (initial voters, or [] for a joiner). */
  private readonly startPeers: string[][] = [];
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private readonly polling = new Set<number>();
  private stopping = false;
  private stopped: Promise<void> | null = null;

  private constructor(
    readonly options: ClusterOptions,
    raftPorts: number[],
  ) {
    const total = options.nodes + (options.spare ? 1 : 0);
    for (let i = 0; i < total; i++) {
      const name = `n${i + 1}`;
      const slot: SlotConfig = {
        name,
        address: `127.0.0.1:${raftPorts[i]}`,
        raftPort: raftPorts[i],
        dataDir: join(options.workdir, name),
        logPath: join(options.resultsDir, `${name}.log`),
      };
      this.slots.push(slot);
      this.processes.push(new NodeProcess(slot, (s, code, signal) => this.exitedOnItsOwn(s, code, signal)));
      this.statuses.push(null);
      this.control.push(null);
      this.clients.push(null);
      this.startPeers.push([]);
    }
    const initial = this.slots.slice(0, options.nodes).map((s) => s.address);
    for (let i = 0; i < options.nodes; i++) this.startPeers[i] = initial;
    this.voters = this.slots.slice(0, options.nodes).map((s) => s.name);
    this.mesh = new ProxyMesh(new Map(this.slots.map((s) => [s.address, s.raftPort])));
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    const total = options.nodes + (options.spare ? 1 : 0);
    const ports: number[] = [];
    for (let i = 0; i < total; i++) ports.push(await freePort());
    const cluster = new Cluster(options, ports);
    await cluster.mesh.start();
    for (const slot of cluster.slots) mkdirSync(slot.dataDir, { recursive: true });
    return cluster;
  }

  indexOf(name: string): number {
    return this.slots.findIndex((s) => s.name === name);
  }

  nameOf(address: string): string {
    return this.slots.find((s) => s.address === address)?.name ?? address;
  }

  isRunning(i: number): boolean {
    return this.processes[i].state === 'running';
  }

  /** Starts slot `i` on its data directory; `asJoiner`: with `peers: []` (it waits to be added). */
  async start(i: number, asJoiner = false): Promise<void> {
    if (asJoiner) this.startPeers[i] = [];
    const slot = this.slots[i];
    await this.processes[i].start({
      script: this.options.script,
      peers: this.startPeers[i],
      routes: this.mesh.routesFor(slot.address),
      leaseReads: this.options.leaseReads,
      unsafeLocalReads: this.options.unsafeLocalReads,
      snapshotThreshold: this.options.snapshotThreshold,
      heartbeatMs: this.options.heartbeatMs,
      electionTimeoutMs: this.options.electionTimeoutMs,
      timeoutMs: 30_000,
    });
    const port = this.processes[i].clientPort;
    this.control[i] = new NodeConnection(port, this.options.now);
    this.clients[i] = new NodeConnection(port, this.options.now);
    await Promise.all([this.control[i]?.ready(5000), this.clients[i]?.ready(5000)]);
  }

  async kill(i: number): Promise<void> {
    await this.processes[i].kill();
    this.dropConnections(i);
  }

  pause(i: number): void {
    this.processes[i].pause();
  }

  resume(i: number): void {
    this.processes[i].resume();
  }

  /** The workload's connection to slot `i`, when it runs. */
  client(i: number): NodeConnection | null {
    return this.processes[i].state === 'down' ? null : this.clients[i];
  }

  /** A control request to slot `i` (status, clock, join, leave, dump). */
  request(i: number, body: ControlRequest, timeoutMs: number): Promise<Outcome> {
    const connection = this.control[i];
    if (!connection || this.processes[i].state === 'down') return Promise.resolve({ kind: 'unavailable', at: this.options.now() });
    return connection.request(body, timeoutMs);
  }

  startPolling(): void {
    this.pollTimer = setInterval(() => this.pollOnce(), POLL_MS);
  }

  stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  /** Running voters' slot indices. */
  runningVoters(): number[] {
    return this.voters.map((name) => this.indexOf(name)).filter((i) => i >= 0 && this.isRunning(i));
  }

  /** Kills every process and closes the proxies (once; later calls wait for the first). */
  stopAll(): Promise<void> {
    this.stopped ??= this.stopEverything();
    return this.stopped;
  }

  private async stopEverything(): Promise<void> {
    this.stopping = true;
    this.stopPolling();
    await Promise.all(this.processes.map((_, i) => this.kill(i)));
    for (const p of this.processes) p.close();
    await this.mesh.close();
  }

  private dropConnections(i: number): void {
    this.control[i]?.close();
    this.clients[i]?.close();
    this.control[i] = null;
    this.clients[i] = null;
    this.statuses[i] = null;
  }

  private exitedOnItsOwn(slot: SlotConfig, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const line = `${slot.name} exited on its own (code ${code}, signal ${signal}) at ${(this.options.now() / 1000).toFixed(3)}s; see ${slot.logPath}`;
    this.unexpectedExits.push(line);
    this.options.log(`ANOMALY ${line}; restarting it`);
    const i = this.indexOf(slot.name);
    this.dropConnections(i);
    setTimeout(() => {
      if (!this.stopping && this.processes[i].state === 'down') this.start(i).catch((error) => this.options.log(`restart of ${slot.name} failed: ${String(error)}`));
    }, 500);
  }

  private pollOnce(): void {
    this.processes.forEach((process, i) => {
      if (process.state !== 'running' || this.polling.has(i)) return;
      this.polling.add(i);
      void this.request(i, { type: 'status' }, STATUS_TIMEOUT_MS).then((outcome) => {
        this.polling.delete(i);
        if (outcome.kind === 'ok' && outcome.response.status) this.statuses[i] = { status: outcome.response.status, at: outcome.at };
        this.updateView();
      });
    });
  }

  private updateView(): void {
    const now = this.options.now();
    let best: NodeStatus | null = null;
    this.statuses.forEach((entry, i) => {
      if (!entry || now - entry.at > FRESH_MS || this.processes[i].state !== 'running') return;
      if (entry.status.state === 'leader' && (!best || entry.status.term > best.term)) best = entry.status;
    });
    const leaderStatus = best as NodeStatus | null;
    const leader = leaderStatus ? this.nameOf(leaderStatus.address) : null;
    if (this.leaderTimeline.length === 0 || this.leaderTimeline[this.leaderTimeline.length - 1].leader !== leader) this.leaderTimeline.push({ at: now, leader });
    this.leader = leader;
    if (!leaderStatus || !this.leader) return;
    const last = this.leaderChanges.at(-1);
    if (!last || last.term !== leaderStatus.term || last.leader !== this.leader) this.leaderChanges.push({ at: now, leader: this.leader, term: leaderStatus.term });
    // The voters as the leader knows them (a follower's or a removed node's view may be stale).
    this.voters = leaderStatus.voters.map((a) => this.nameOf(a));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
