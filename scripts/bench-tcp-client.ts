/**
 * The load generator of `npm run bench:tcp`: one HTTP/1.1 keep-alive client
 * with `inflight` connections, each carrying one request at a time (no
 * pipelining), so exactly `inflight` writes are outstanding. It is a small
 * hand-written client (request bytes prepared once per key, responses parsed
 * by Content-Length) so that its own cost is low and the same for every
 * system under test.
 */
import { connect, type Socket } from 'node:net';

/** One write: the raw request bytes for key number `i`. */
export type RequestBuilder = (i: number) => Buffer;

export interface LoadResult {
  /** Completed writes in the measured window. */
  writes: number;
  /** Length of the measured window in ms. */
  elapsedMs: number;
  /** Latency of every write completed in the window, ms. */
  latencies: Float64Array;
  /** Responses other than 200 (counted, not in latencies). */
  errors: number;
  /** The first few error responses, for the log. */
  errorSamples: string[];
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** A keep-alive connection that sends a request and resolves with the response status. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((result: { status: number; body: string }) => void) | null = null;
  private failed: Error | null = null;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => (this.failed = error));
    socket.on('close', () => {
      this.failed ??= new Error('connection closed');
      this.waiting?.({ status: 0, body: this.failed.message });
      this.waiting = null;
    });
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  send(request: Buffer): Promise<{ status: number; body: string }> {
    if (this.failed) return Promise.resolve({ status: 0, body: this.failed.message });
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf(CRLF2);
    if (headerEnd < 0) return;
    const head = this.buffer.toString('latin1', 0, headerEnd);
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const length = match ? Number(match[1]) : 0;
    const end = headerEnd + 4 + length;
    if (this.buffer.length < end) return;
    const status = Number(head.slice(9, 12));
    const body = status === 200 ? '' : this.buffer.toString('utf8', headerEnd + 4, end);
    this.buffer = this.buffer.subarray(end);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ status, body });
  }
}

/**
 * Runs `inflight` loops of sequential writes against 127.0.0.1:`port` for
 * `warmupMs` (unmeasured) and then `measureMs`; `onMeasureStart`/`onMeasureEnd`
 * run at the window's edges (to sample server CPU there). Keys are numbered
 * from `firstKey` and never reused.
 */
export async function runLoad(options: {
  port: number;
  inflight: number;
  warmupMs: number;
  measureMs: number;
  firstKey: number;
  request: RequestBuilder;
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}): Promise<LoadResult & { nextKey: number }> {
  const connections = await Promise.all(Array.from({ length: options.inflight }, () => Connection.open(options.port)));
  let nextKey = options.firstKey;
  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  const latencies: number[] = [];
  let writes = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  let measureStart = 0;
  let measureEnd = 0;

  const loop = async (connection: Connection) => {
    while (phase !== 'done') {
      const request = options.request(nextKey++);
      const started = performance.now();
      const { status, body } = await connection.send(request);
      const ended = performance.now();
      if (phase !== 'measure' || started < measureStart) continue;
      if (status === 200) {
        writes++;
        latencies.push(ended - started);
      } else {
        errors++;
        if (errorSamples.length < 3) errorSamples.push(`${status} ${body.slice(0, 200)}`);
        if (status === 0) return; // the connection is gone
      }
    }
  };
  const loops = connections.map(loop);
  await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
  options.onMeasureStart?.();
  measureStart = performance.now();
  phase = 'measure';
  await new Promise((resolve) => setTimeout(resolve, options.measureMs));
  measureEnd = performance.now();
  options.onMeasureEnd?.();
  phase = 'done';
  await Promise.all(loops);
  for (const c of connections) c.close();
  return { writes, elapsedMs: measureEnd - measureStart, latencies: Float64Array.from(latencies), errors, errorSamples, nextKey };
}

/** The `q` quantile (0..1) of sorted values. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
