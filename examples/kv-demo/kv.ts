/**
 * The key-value node of the kv example: a Raft node whose state machine is a
 * Map<string, string>, and its HTTP API. examples/kv-demo/node.ts runs it as a
 * process; tests use it in-process.
 *
 * HTTP API (any node answers every request; no redirects):
 *   PUT    /kv/:key   body = value -> 200 {index, term}  (propose; a follower forwards to the leader)
 *   GET    /kv/:key               -> 200 {key, value} | 404  (linearizable: readBarrier asks the leader)
 *   DELETE /kv/:key               -> 200 {index, term}
 *   GET    /status                -> raft.status() + {keys, pid, http}
 *   GET    /kv                    -> 200 {lastApplied, entries: [[key, value], ...]} in the order keys
 *                                    were first applied; local state, no read barrier (debug only)
 * Errors: 400 {code: 'BAD_REQUEST'} for a request that cannot be understood (a
 * malformed percent-escape in the key, say), 404/405/413 as usual, and 503
 * {code, message} when Raft cannot answer now (NO_LEADER, TIMEOUT, LEADERSHIP_LOST, ...).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RaftInterface, type NodeInstance, type RaftOptions } from 'webraft';
import { TcpNodeInstance, type TcpTransport } from 'webraft/node';

export type Command = { op: 'set'; key: string; value: string } | { op: 'del'; key: string };

/** A Raft node over the TCP transport with a Map as its state machine. */
export class KvRaft extends RaftInterface {
  readonly map = new Map<string, string>();
  /** The instances this node created (for the transport counters in /status). */
  readonly peers: TcpNodeInstance[] = [];

  /**
   * @param debug also count `__dup__/<key>` when a `set` is applied for a key
   *   that already holds that value (the crash test writes each key once, so
   *   any such key means a command was applied twice).
   */
  constructor(
    address: string,
    options: RaftOptions,
    readonly transport: TcpTransport | null,
    debug = false,
  ) {
    super(address, options);
    this.listen('apply', (entry) => {
      const command = entry.command as Command;
      if (command.op === 'set') {
        if (debug && this.map.get(command.key) === command.value) {
          const dup = `__dup__/${command.key}`;
          this.map.set(dup, String(Number(this.map.get(dup) ?? 0) + 1));
        }
        this.map.set(command.key, command.value);
      } else if (command.op === 'del') this.map.delete(command.key);
    });
    this.listen('refresh', (snapshot) => {
      this.map.clear();
      const data = snapshot.data as string[] | Record<string, string> | null;
      if (Array.isArray(data)) for (let i = 0; i + 1 < data.length; i += 2) this.map.set(data[i], data[i + 1]);
      else for (const [key, value] of Object.entries(data ?? {})) this.map.set(key, value); // the object form of earlier versions
    });
  }

  createInstance(address: string): NodeInstance {
    if (!this.transport) throw new Error('KvRaft without a transport has no peers');
    const instance = new TcpNodeInstance(address, this, this.transport);
    this.peers.push(instance);
    return instance;
  }

  /**
   * The map as a flat array `[key1, value1, key2, value2, ...]` in insertion
   * order. Building it and serializing it is several times cheaper than an
   * object (`Object.fromEntries` makes a dictionary-mode object and
   * JSON.stringify walks it slowly): with 100,000 keys about 0.1 s against
   * 0.6 s on the bench machine, and snapshots run on the main thread.
   */
  /** Frames, socket writes and bytes sent to all peers so far. */
  sentCounters(): { frames: number; writes: number; bytes: number } {
    const total = { frames: 0, writes: 0, bytes: 0 };
    for (const peer of this.peers) {
      total.frames += peer.sent.frames;
      total.writes += peer.sent.writes;
      total.bytes += peer.sent.bytes;
    }
    return total;
  }

  override createSnapshot(): string[] {
    const flat = new Array<string>(this.map.size * 2);
    let i = 0;
    for (const [key, value] of this.map) {
      flat[i++] = key;
      flat[i++] = value;
    }
    return flat;
  }
}

/** An error that becomes an HTTP status (not a 503). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link createKvHttpHandler}. */
export interface KvHttpOptions {
  /** Serve `GET /kv` (the whole map, local state). */
  debug?: boolean;
  /** Largest accepted body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Added to `GET /status`. */
  statusExtra?: () => Record<string, unknown>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new HttpError(413, 'TOO_LARGE', `body over ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The key of `/kv/<key>` (percent-decoded), or null for another path. @throws HttpError 400 on a malformed escape. */
function keyOf(path: string): string | null {
  if (!path.startsWith('/kv/') || path.length === 4) return null;
  try {
    return decodeURIComponent(path.slice(4));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `malformed percent-escape in key ${JSON.stringify(path.slice(4, 84))}`);
  }
}

/** The HTTP API of one node (see the module comment). */
export function createKvHttpHandler(raft: KvRaft, options: KvHttpOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path === '/status' && req.method === 'GET') return send(res, 200, { ...raft.status(), keys: raft.map.size, ...options.statusExtra?.() });
    if (path === '/kv' && req.method === 'GET' && options.debug) return send(res, 200, { lastApplied: raft.status().lastApplied, entries: [...raft.map] });
    const key = keyOf(path);
    if (key === null) return send(res, 404, { code: 'NOT_FOUND', message: 'try /kv/:key or /status' });
    switch (req.method) {
      case 'GET':
        await raft.readBarrier();
        if (!raft.map.has(key)) return send(res, 404, { code: 'NOT_FOUND', message: `no key ${key}` });
        return send(res, 200, { key, value: raft.map.get(key) });
      case 'PUT':
        return send(res, 200, await raft.propose({ op: 'set', key, value: await readBody(req, maxBodyBytes) } satisfies Command));
      case 'DELETE':
        return send(res, 200, await raft.propose({ op: 'del', key } satisfies Command));
      default:
        return send(res, 405, { code: 'METHOD_NOT_ALLOWED', message: `${req.method} not supported` });
    }
  }

  return (req, res) => {
    handle(req, res).catch((error: { code?: string; message?: string }) => {
      if (res.headersSent) return;
      if (error instanceof HttpError) return send(res, error.status, { code: error.code, message: error.message });
      send(res, 503, { code: error.code ?? 'ERROR', message: error.message ?? String(error) });
    });
  };
}
