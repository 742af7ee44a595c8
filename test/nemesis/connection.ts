/**
 * The harness's side of the client protocol (protocol.ts): one TCP
 * connection to one node process, many requests in flight, each with its own
 * timeout. A request ends in exactly one outcome:
 *
 * - `ok` / `error`: the node answered;
 * - `timeout`: no answer in time (the node may be paused, partitioned, slow);
 *   an answer arriving later is handed to `onLate`, for the history to use;
 * - `reset`: the connection closed with the request in flight (a kill);
 * - `unavailable`: there was no open connection, so nothing was sent.
 *
 * Only `unavailable` proves that an operation did not happen.
 */
import { createConnection, type Socket } from 'node:net';
import { LineReader, type ControlRequest, type RegisterRequest, type Response } from './protocol.js';

export type Outcome =
  | { kind: 'ok'; response: Extract<Response, { ok: true }>; at: number }
  | { kind: 'error'; code: string; message: string; at: number }
  | { kind: 'timeout'; at: number }
  | { kind: 'reset'; at: number }
  | { kind: 'unavailable'; at: number };

type Body = RegisterRequest | ControlRequest;

/** Most timed-out requests remembered for a late answer (the oldest are forgotten). */
const MAX_LATE = 10_000;

interface InFlight {
  settle: (outcome: Outcome) => void;
  timer: ReturnType<typeof setTimeout>;
  onLate?: (response: Response, at: number) => void;
}

export class NodeConnection {
  private socket: Socket | null = null;
  private open = false;
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();
  /** Requests that timed out and may still be answered: id -> late handler. */
  private readonly late = new Map<number, (response: Response, at: number) => void>();

  constructor(
    readonly port: number,
    private readonly clock: () => number,
  ) {
    this.connect();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Resolves once connected, or false after `timeoutMs` / on failure. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.open) return Promise.resolve(true);
    return new Promise((resolve) => {
      const socket = this.socket;
      if (!socket) return resolve(false);
      const timer = setTimeout(() => resolve(this.open), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  request(body: Body, timeoutMs: number, onLate?: (response: Response, at: number) => void): Promise<Outcome> {
    if (!this.open || !this.socket) return Promise.resolve({ kind: 'unavailable', at: this.clock() });
    const id = this.nextId++;
    const socket = this.socket;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(id);
        if (onLate) {
          this.late.set(id, onLate);
          if (this.late.size > MAX_LATE) this.late.delete(this.late.keys().next().value as number);
        }
        resolve({ kind: 'timeout', at: this.clock() });
      }, timeoutMs);
      this.inFlight.set(id, { settle: resolve, timer, onLate });
      socket.write(JSON.stringify({ ...body, id }) + '\n');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.failAll();
  }

  private connect(): void {
    const socket = createConnection({ host: '127.0.0.1', port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const reader = new LineReader();
    socket.on('connect', () => (this.open = true));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.open = false;
      this.failAll();
    });
    socket.on('data', (chunk: Buffer) => {
      const lines = reader.push(chunk);
      if (lines === null) return socket.destroy();
      const at = this.clock();
      for (const line of lines) this.deliver(JSON.parse(line) as Response, at);
    });
  }

  private deliver(response: Response, at: number): void {
    const waiting = this.inFlight.get(response.id);
    if (waiting) {
      this.inFlight.delete(response.id);
      clearTimeout(waiting.timer);
      waiting.settle(response.ok ? { kind: 'ok', response, at } : { kind: 'error', code: response.code, message: response.message, at });
      return;
    }
    const onLate = this.late.get(response.id);
    if (onLate) {
      this.late.delete(response.id);
      onLate(response, at);
    }
  }

  private failAll(): void {
    const at = this.clock();
    for (const [id, waiting] of this.inFlight) {
      clearTimeout(waiting.timer);
      waiting.settle({ kind: 'reset', at });
      this.inFlight.delete(id);
    }
    this.late.clear();
  }
}
