/**
 * Runs scripts/interop/python_learner.py (a WebRaft learner written in Python
 * from docs/tcp-protocol.md) as a child process: generates raft_pb2 with
 * protoc into a temp dir, starts the learner and talks to it over its JSON-line
 * control channel.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROTOC, PYTHON } from './peers.js';
import { protoDir, repoRoot } from './reference.js';

const run = promisify(execFile);

/** What the learner reports for `{"cmd": "dump"}`. */
export interface LearnerDump {
  term: number;
  leader: string | null;
  commitIndex: number;
  snapshot: { index: number; term: number; data: unknown; configuration: { voters: string[]; learners: string[] } } | null;
  snapshotIndex: number;
  snapshotTerm: number;
  /** proto3 JSON of each webraft.v1.Entry after the snapshot (64-bit fields as strings). */
  entries: { index: string; term: string; type: string; command?: unknown; clientId?: string; sequence?: string; configuration?: unknown }[];
  stats: Record<string, number>;
}

export interface PythonLearner {
  dump(): Promise<LearnerDump>;
  /** Everything the learner wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export interface LearnerOptions {
  address: string;
  clusterId: string;
  ca: string;
  cert: string;
  key: string;
}

export async function startPythonLearner(options: LearnerOptions): Promise<PythonLearner> {
  const pbDir = mkdtempSync(join(tmpdir(), 'webraft-py-learner-'));
  await run(PROTOC, [`--python_out=${pbDir}`, '-I', protoDir, '-I', '/usr/include', join(protoDir, 'webraft/v1/raft.proto')]);
  const child: ChildProcessWithoutNullStreams = spawn(
    PYTHON,
    [join(repoRoot, 'scripts/interop/python_learner.py'), '--pb-dir', pbDir, '--address', options.address, '--cluster-id', options.clusterId,
      '--ca', options.ca, '--cert', options.cert, '--key', options.key],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const waiting: ((line: Record<string, unknown>) => void)[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`python learner did not answer; stderr:\n${stderr}`)), 15_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const listening = await Promise.race([next(), exited.then((code) => Promise.reject(new Error(`python learner exited (${code}): ${stderr}`)))]);
  if (listening.event !== 'listening') throw new Error(`unexpected first line from the learner: ${JSON.stringify(listening)}`);
  return {
    async dump() {
      const answer = next();
      child.stdin.write('{"cmd": "dump"}\n');
      return (await answer) as unknown as LearnerDump;
    },
    stderr: () => stderr,
    async stop() {
      child.stdin.end('{"cmd": "exit"}\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(pbDir, { recursive: true, force: true });
    },
  };
}
