/**
 * The two systems `npm run bench:tcp` compares, each a 3-member cluster on
 * 127.0.0.1 started as separate processes:
 * - WebRaft's kv example (examples/kv-demo/node.ts) bundled with esbuild into
 *   one JS file and run with plain `node` (no tsx): TCP transport with its
 *   default security, FileStorage, the example's default snapshot threshold;
 * - etcd (the `etcd` binary), written through its v3 JSON gateway.
 * Both fsync every write batch; both authenticate and encrypt peer traffic
 * unless asked not to (WebRaft: TLS-PSK, its default; etcd: peer mutual TLS).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { makeClusterCertificates } from '../examples/kv-demo/certificates.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const VALUE = 'v'.repeat(64);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function postJson(port: number, path: string, body: unknown, method = 'POST'): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: method === 'GET' ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(2000) });
  return response.json();
}

/** utime and stime of a process in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), system: Number(fields[12]) };
}

export const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** A cluster under test. */
export interface BenchSystem {
  readonly name: string;
  start(): Promise<void>;
  /** The HTTP port of the current leader (writes go there). */
  leaderPort(): Promise<number>;
  /** The raw HTTP/1.1 request writing key number `i` (a unique key, a 64-byte value). */
  request(i: number): Buffer;
  /** Process ids of the servers (for CPU accounting). */
  pids(): number[];
  /** Counters summed over the members (WebRaft: peer frames, socket writes and reads, fsyncs), or null. */
  counters?(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

function stopProcesses(children: ChildProcess[]): Promise<void> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  ).then(() => undefined);
}

// ------------------------------------------------------------------ WebRaft

/** Bundles examples/kv-demo/node.ts (and webraft from src/) into one ESM file for plain `node`. */
export async function buildKvNode(outDir: string): Promise<string> {
  const outfile = join(outDir, 'kv-node.mjs');
  await build({
    entryPoints: [join(REPO, 'examples/kv-demo/node.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    alias: {
      'webraft/binary': join(REPO, 'src/binary/index.ts'),
      'webraft/node': join(REPO, 'src/node/index.ts'),
      webraft: join(REPO, 'src/index.ts'),
    },
  });
  return outfile;
}

export interface WebRaftOptions {
  dir: string;
  script: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags: string[];
  /** Extra flags of node.ts (e.g. --snapshot-threshold, --insecure-plaintext). */
  nodeArgs: string[];
  /** Default 'WebRaft'. */
  name?: string;
}

export class WebRaftCluster implements BenchSystem {
  readonly name: string;
  private readonly members: { id: string; http: number; data: string; child: ChildProcess | null }[] = [];

  constructor(private readonly options: WebRaftOptions) {
    this.name = options.name ?? 'WebRaft';
  }

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      this.members.push({ id: `127.0.0.1:${await freePort()}`, http: await freePort(), data: join(this.options.dir, `${this.name}-n${i + 1}`), child: null });
    }
    const peers = this.members.map((m) => m.id).join(',');
    for (const [i, m] of this.members.entries()) {
      const log = openSync(join(this.options.dir, `${this.name}-n${i + 1}.log`), 'a');
      m.child = spawn(
        process.execPath,
        [...this.options.nodeFlags, this.options.script, '--id', m.id, '--peers', peers, '--http', String(m.http), '--data', m.data, ...this.options.nodeArgs],
        { cwd: this.options.dir, stdio: ['ignore', log, log] },
      );
      closeSync(log);
    }
    await this.leaderPort();
  }

  async leaderPort(): Promise<number> {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
      for (const m of this.members) {
        const status = await postJson(m.http, '/status', null, 'GET').catch(() => null);
        if (status?.state === 'leader') return m.http;
      }
    }
    throw new Error(`WebRaft: no leader within 30 s (logs in ${this.options.dir})`);
  }

  async counters(): Promise<Record<string, number>> {
    const total = { frames: 0, writes: 0, reads: 0, fsyncs: 0 };
    for (const m of this.members) {
      const status = await postJson(m.http, '/status', null, 'GET');
      total.frames += status.sent.frames;
      total.writes += status.sent.writes;
      total.reads += status.received.reads;
      total.fsyncs += status.storage.logSyncs + status.storage.fileSyncs + status.storage.dirSyncs;
    }
    return total;
  }

  request(i: number): Buffer {
    return Buffer.from(`PUT /kv/bench-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${VALUE.length}\r\n\r\n${VALUE}`);
  }

  pids(): number[] {
    return this.members.map((m) => m.child?.pid).filter((pid): pid is number => pid !== undefined);
  }

  stop(): Promise<void> {
    return stopProcesses(this.members.map((m) => m.child).filter((c): c is ChildProcess => c !== null));
  }
}

// ------------------------------------------------------------------ etcd

export function etcdVersion(binary = 'etcd'): string | null {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  return /etcd Version: (\S+)/.exec(result.stdout)?.[1] ?? 'unknown';
}

export interface EtcdOptions {
  dir: string;
  binary: string;
  /** Peer traffic over mutual TLS (certificates made with openssl), as WebRaft's is. */
  peerTls: boolean;
}

export class EtcdCluster implements BenchSystem {
  readonly name = 'etcd';
  private readonly members: { name: string; client: number; peer: number; child: ChildProcess | null }[] = [];

  constructor(private readonly options: EtcdOptions) {}

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) this.members.push({ name: `e${i + 1}`, client: await freePort(), peer: await freePort(), child: null });
    const scheme = this.options.peerTls ? 'https' : 'http';
    const cluster = this.members.map((m) => `${m.name}=${scheme}://127.0.0.1:${m.peer}`).join(',');
    let tls: (name: string) => string[] = () => [];
    if (this.options.peerTls) {
      const certs = await makeClusterCertificates(join(this.options.dir, 'etcd-certs'), this.members.map((m) => `127.0.0.1:${m.peer}`), 7);
      tls = (name) => {
        const own = certs.nodes.get(`127.0.0.1:${this.members.find((m) => m.name === name)!.peer}`)!;
        return ['--peer-cert-file', own.cert, '--peer-key-file', own.key, '--peer-trusted-ca-file', certs.ca, '--peer-client-cert-auth'];
      };
    }
    for (const m of this.members) {
      const data = join(this.options.dir, `etcd-${m.name}`);
      mkdirSync(data, { recursive: true, mode: 0o700 });
      const log = openSync(join(this.options.dir, `etcd-${m.name}.log`), 'a');
      m.child = spawn(
        this.options.binary,
        [
          '--name', m.name, '--data-dir', data,
          '--listen-client-urls', `http://127.0.0.1:${m.client}`, '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
          '--listen-peer-urls', `${scheme}://127.0.0.1:${m.peer}`, '--initial-advertise-peer-urls', `${scheme}://127.0.0.1:${m.peer}`,
          '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${process.pid}`,
          '--logger', 'zap', '--log-level', 'warn',
          ...tls(m.name),
        ],
        { stdio: ['ignore', log, log] },
      );
      closeSync(log);
    }
    await this.leaderPort();
  }

  async leaderPort(): Promise<number> {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
      const statuses = await Promise.all(this.members.map((m) => postJson(m.client, '/v3/maintenance/status', {}).catch(() => null)));
      const leaderId = statuses.find((s) => s?.leader && s.leader !== '0')?.leader;
      const index = statuses.findIndex((s) => s?.header?.member_id === leaderId);
      if (leaderId && index >= 0) return this.members[index].client;
    }
    throw new Error(`etcd: no leader within 30 s (logs in ${this.options.dir})`);
  }

  request(i: number): Buffer {
    const body = JSON.stringify({ key: Buffer.from(`bench-${i}`).toString('base64'), value: Buffer.from(VALUE).toString('base64') });
    return Buffer.from(`POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  }

  pids(): number[] {
    return this.members.map((m) => m.child?.pid).filter((pid): pid is number => pid !== undefined);
  }

  stop(): Promise<void> {
    return stopProcesses(this.members.map((m) => m.child).filter((c): c is ChildProcess => c !== null));
  }
}
