/**
 * One node slot of the nemesis cluster and its OS process: start (on its data
 * directory), SIGKILL, SIGSTOP/SIGCONT, wipe. The process is the bundled
 * test server (server.ts); its stdout and stderr go to `<results>/<name>.log`.
 * A process that exits without the harness having killed it is reported
 * through `onUnexpectedExit` (a node must never end on its own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PSK_ENV } from './transport.js';

/** The cluster secret of this run's nodes (TLS-PSK), made once per harness process. */
const CLUSTER_SECRET = randomBytes(32).toString('hex');

export interface SlotConfig {
  /** Short name for reports: n1, n2, ... */
  name: string;
  /** Raft address `127.0.0.1:<raftPort>` (the node's identity and where it listens). */
  address: string;
  raftPort: number;
  dataDir: string;
  logPath: string;
}

export type ProcessState = 'down' | 'starting' | 'running' | 'paused';

export interface StartOptions {
  /** The bundled server script. */
  script: string;
  /** Initial voters (ignored by the node once its storage holds state); [] for a node that waits to be joined. */
  peers: string[];
  routes: string;
  leaseReads: boolean;
  unsafeLocalReads: boolean;
  snapshotThreshold: number;
  heartbeatMs: number;
  electionTimeoutMs: number;
  /** Longest wait for READY. */
  timeoutMs: number;
}

export class NodeProcess {
  state: ProcessState = 'down';
  clientPort = 0;
  pid = 0;
  starts = 0;
  private child: ChildProcess | null = null;
  private readonly log: WriteStream;
  private expectingExit = false;

  constructor(
    readonly slot: SlotConfig,
    private readonly onUnexpectedExit: (slot: SlotConfig, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    this.log = createWriteStream(slot.logPath, { flags: 'a' });
  }

  note(line: string): void {
    this.log.write(`${new Date().toISOString()} harness: ${line}\n`);
  }

  /** Starts the process and resolves once it serves clients. */
  start(options: StartOptions): Promise<void> {
    if (this.child) throw new Error(`${this.slot.name} is already running`);
    const args = [
      options.script,
      '--id', this.slot.address,
      '--peers', options.peers.join(','),
      '--data', this.slot.dataDir,
      '--routes', options.routes,
      '--snapshot-threshold', String(options.snapshotThreshold),
      '--heartbeat-ms', String(options.heartbeatMs),
      '--election-timeout-ms', String(options.electionTimeoutMs),
    ];
    if (options.leaseReads) args.push('--lease-reads');
    if (options.unsafeLocalReads) args.push('--unsafe-local-reads');
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [PSK_ENV]: CLUSTER_SECRET } });
    this.child = child;
    this.state = 'starting';
    this.starts++;
    this.expectingExit = false;
    this.pid = child.pid ?? 0;
    this.note(`started pid ${this.pid}`);
    child.stderr?.pipe(this.log, { end: false });
    return new Promise((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`${this.slot.name} did not start within ${options.timeoutMs} ms (see ${this.slot.logPath})`)), options.timeoutMs);
      child.stdout?.on('data', (chunk: Buffer) => {
        this.log.write(chunk);
        if (this.state !== 'starting') return;
        buffered += chunk.toString('utf8');
        const match = /^READY (.*)$/m.exec(buffered);
        if (match) {
          clearTimeout(timer);
          this.clientPort = (JSON.parse(match[1]) as { clientPort: number }).clientPort;
          this.state = 'running';
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const wasStarting = this.state === 'starting';
        this.child = null;
        this.state = 'down';
        this.clientPort = 0;
        this.note(`exited (code ${code}, signal ${signal})`);
        if (wasStarting) reject(new Error(`${this.slot.name} exited while starting (code ${code}, signal ${signal}; see ${this.slot.logPath})`));
        if (!this.expectingExit) this.onUnexpectedExit(this.slot, code, signal);
      });
    });
  }

  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void> {
    const child = this.child;
    if (!child) return Promise.resolve();
    this.expectingExit = true;
    this.note('SIGKILL');
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  pause(): void {
    if (this.state !== 'running' || !this.child) return;
    this.note('SIGSTOP');
    this.child.kill('SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused' || !this.child) return;
    this.note('SIGCONT');
    this.child.kill('SIGCONT');
    this.state = 'running';
  }

  /** Deletes the data directory (only while down). */
  wipe(): void {
    if (this.child) throw new Error(`${this.slot.name}: wipe while running`);
    this.note('data directory wiped');
    rmSync(this.slot.dataDir, { recursive: true, force: true });
  }

  close(): void {
    this.log.end();
  }
}
