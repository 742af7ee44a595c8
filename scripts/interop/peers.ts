/**
 * Runners for the foreign protobuf implementations of the interop tests:
 * protobuf-go through `buf convert`, and Python's google.protobuf through
 * scripts/interop/python_peer.py. Both are batched: one buf call per direction
 * for all vectors (through a wrapper message `Batch { repeated
 * webraft.v1.Message messages = 1; }`, whose binary form is just the
 * concatenation of length-delimited messages), and one python process.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { protoDir, repoRoot } from './reference.js';

const run = promisify(execFile);

export const INSTALL_HINT = 'sudo apt-get install -y protobuf-compiler libprotobuf-dev python3-protobuf';
/** Overridable (e.g. to check the skip/fail paths): WEBRAFT_INTEROP_PYTHON, WEBRAFT_INTEROP_PROTOC. */
export const PYTHON = process.env.WEBRAFT_INTEROP_PYTHON || '/usr/bin/python3';
export const PROTOC = process.env.WEBRAFT_INTEROP_PROTOC || 'protoc';
export const BUF = join(repoRoot, 'node_modules', '.bin', 'buf');

export interface ToolStatus {
  ok: boolean;
  reason: string;
}

export function pythonStatus(): ToolStatus {
  const missing: string[] = [];
  if (spawnSync(PROTOC, ['--version']).status !== 0) missing.push(`${PROTOC} (protobuf-compiler)`);
  if (!existsSync('/usr/include/google/protobuf/struct.proto')) missing.push('/usr/include/google/protobuf/struct.proto (libprotobuf-dev)');
  if (!existsSync(PYTHON)) missing.push(PYTHON);
  else if (spawnSync(PYTHON, ['-c', 'import google.protobuf']).status !== 0) missing.push(`google.protobuf for ${PYTHON} (python3-protobuf)`);
  return missing.length
    ? { ok: false, reason: `missing ${missing.join(', ')}; install with: ${INSTALL_HINT}` }
    : { ok: true, reason: '' };
}

export function bufStatus(): ToolStatus {
  if (!existsSync(BUF)) return { ok: false, reason: `missing ${BUF}; run npm ci` };
  const r = spawnSync(BUF, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, reason: '' } : { ok: false, reason: `buf --version failed: ${r.stderr}` };
}

// --- length-delimited batch framing (field 1 of the wrapper message) -------

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Binary of `Batch { messages = [...] }` built from already-encoded messages. */
export function joinBatch(messages: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of messages) parts.push(Buffer.from([0x0a, ...varint(m.length)]), Buffer.from(m));
  return Buffer.concat(parts);
}

/** Inverse of joinBatch; throws on anything but field 1 / wire type 2. */
export function splitBatch(bytes: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i++] !== 0x0a) throw new Error(`splitBatch: unexpected tag at ${i - 1}`);
    let len = 0;
    let mul = 1;
    for (;;) {
      const b = bytes[i++]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) break;
    }
    out.push(Buffer.from(bytes.subarray(i, i + len)));
    i += len;
  }
  return out;
}

// --- protobuf-go via buf convert -------------------------------------------

export interface GoPeer {
  /** Binary messages -> protobuf-go canonical JSON (parsed), one per message. */
  binaryToJson(messages: Uint8Array[]): Promise<unknown[]>;
  /** JSON payloads -> protobuf-go binary, one per payload. */
  jsonToBinary(payloads: unknown[]): Promise<Buffer[]>;
  /** A single top-level webraft.v1.Message conversion (no wrapper), for a sanity check. */
  convertTopLevel(input: Buffer, from: 'binpb' | 'json', to: 'binpb' | 'json'): Promise<Buffer>;
  calls: number;
  close(): void;
}

export async function startGoPeer(): Promise<GoPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'webraft-go-'));
  const mod = join(dir, 'module');
  cpSync(protoDir, mod, { recursive: true });
  writeFileSync(
    join(mod, 'webraft_interop_batch.proto'),
    'syntax = "proto3";\npackage webraft_interop;\nimport "webraft/v1/raft.proto";\nmessage Batch { repeated webraft.v1.Message messages = 1; }\n',
  );
  const image = join(dir, 'image.binpb');
  await run(BUF, ['build', mod, '-o', image], { cwd: dir });
  let n = 0;
  const convert = async (type: string, from: string, to: string) => {
    n++;
    peer.calls = n;
    await run(BUF, ['convert', image, '--type', type, '--from', from, '--to', to], { cwd: dir, maxBuffer: 1 << 28 });
  };
  const peer: GoPeer = {
    calls: 0,
    async binaryToJson(messages) {
      const inFile = join(dir, `b2j-${n}.binpb`);
      const outFile = join(dir, `b2j-${n}.json`);
      writeFileSync(inFile, joinBatch(messages));
      await convert('webraft_interop.Batch', inFile, outFile);
      const parsed = JSON.parse(readFileSync(outFile, 'utf8')) as { messages?: unknown[] };
      return parsed.messages ?? [];
    },
    async jsonToBinary(payloads) {
      const inFile = join(dir, `j2b-${n}.json`);
      const outFile = join(dir, `j2b-${n}.binpb`);
      writeFileSync(inFile, JSON.stringify({ messages: payloads }));
      await convert('webraft_interop.Batch', inFile, outFile);
      return splitBatch(readFileSync(outFile));
    },
    async convertTopLevel(input, from, to) {
      const inFile = join(dir, `top-${n}.${from}`);
      const outFile = join(dir, `top-${n}.out.${to}`);
      writeFileSync(inFile, input);
      await convert('webraft.v1.Message', inFile, outFile);
      return readFileSync(outFile);
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return peer;
}

// --- Python google.protobuf ------------------------------------------------

export interface PythonResult {
  name: string | null;
  errors: string[];
  reencoded_equal?: boolean;
  json_equals_binary?: boolean;
  json?: string;
  dict?: unknown;
  json_snake?: string;
  binary?: string;
}

export interface PythonInput {
  name: string;
  binary: Uint8Array;
  json: unknown;
}

/** Generates raft_pb2 with protoc into a temp dir and runs python_peer.py once over the whole batch. */
export async function runPythonPeer(items: PythonInput[]): Promise<PythonResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'webraft-py-'));
  try {
    await run(PROTOC, [`--python_out=${dir}`, '-I', protoDir, '-I', '/usr/include', join(protoDir, 'webraft/v1/raft.proto')]);
    const input = items
      .map((it) => JSON.stringify({ name: it.name, binary: Buffer.from(it.binary).toString('base64'), json: it.json }))
      .join('\n');
    const child = spawn(PYTHON, [join(repoRoot, 'scripts/interop/python_peer.py'), dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(`${input}\n`);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`python_peer.py exited with ${code}: ${stderr}`);
    return stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as PythonResult);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
