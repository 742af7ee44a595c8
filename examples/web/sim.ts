/**
 * The simulated world the demo's nodes live in: a virtual clock (so the whole
 * cluster can be paused) and a network with latency, jitter, message loss and
 * partitions. Both are plain user code built on webraft's public API: the clock
 * is handed to each node as `options.clock`, the network sits behind a
 * NodeInstance subclass (see app.ts).
 */
import type { Clock, TimerHandle } from 'webraft';

interface SimTimer {
  id: number;
  at: number;
  seq: number;
  callback: () => void;
}

/** A clock whose time advances only while the simulation runs. */
export class SimClock implements Clock {
  private virtualNow = 0;
  private lastReal = performance.now();
  private nextId = 1;
  private seq = 0;
  private readonly timers = new Map<number, SimTimer>();
  paused = false;
  /** Virtual ms per real ms. */
  speed = 1;

  now(): number {
    return this.virtualNow;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.timers.set(id, { id, at: this.virtualNow + delay, seq: this.seq++, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Advances virtual time by the real time elapsed since the last call and fires due timers in order. */
  pump(): void {
    const real = performance.now();
    const elapsed = Math.min(real - this.lastReal, 250); // a throttled tab does not jump ahead
    this.lastReal = real;
    if (this.paused) return;
    const target = this.virtualNow + elapsed * this.speed;
    for (;;) {
      let due: SimTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at > target) continue;
        if (!due || timer.at < due.at || (timer.at === due.at && timer.seq < due.seq)) due = timer;
      }
      if (!due) break;
      this.timers.delete(due.id);
      if (due.at > this.virtualNow) this.virtualNow = due.at;
      try {
        due.callback();
      } catch (error) {
        console.error(error);
      }
    }
    this.virtualNow = target;
  }
}

/** What a message carries, for colouring: derived from the proto3 JSON body key. */
export type MessageKind = 'vote' | 'append' | 'heartbeat' | 'snapshot' | 'other';

export interface InFlight {
  id: number;
  from: string;
  to: string;
  kind: MessageKind;
  response: boolean;
  /** Short description for tooltips / debugging. */
  label: string;
  sentAt: number;
  arriveAt: number;
  /** Set when the message is lost: the virtual time it vanishes (drawn as a cross). */
  droppedAt: number | null;
  done: boolean;
}

export function classify(payload: Record<string, unknown>): { kind: MessageKind; response: boolean; label: string } {
  const body = Object.keys(payload).find((k) => k !== 'from' && k !== 'to' && k !== 'term') ?? 'unknown';
  const value = (payload[body] ?? {}) as Record<string, unknown>;
  switch (body) {
    case 'requestVoteRequest':
      return { kind: 'vote', response: false, label: value.preVote ? 'PreVote' : 'RequestVote' };
    case 'requestVoteResponse':
      return { kind: 'vote', response: true, label: `${value.preVote ? 'PreVote' : 'Vote'} ${value.voteGranted ? 'granted' : 'denied'}` };
    case 'appendEntriesRequest': {
      const entries = Array.isArray(value.entries) ? value.entries.length : 0;
      return entries > 0
        ? { kind: 'append', response: false, label: `AppendEntries (${entries})` }
        : { kind: 'heartbeat', response: false, label: 'Heartbeat' };
    }
    case 'appendEntriesResponse':
      return { kind: 'append', response: true, label: `Append ${value.success ? 'ok' : 'rejected'}` };
    case 'installSnapshotRequest':
      return { kind: 'snapshot', response: false, label: 'InstallSnapshot' };
    case 'installSnapshotResponse':
      return { kind: 'snapshot', response: true, label: 'InstallSnapshot ok' };
    default:
      return { kind: 'other', response: body.endsWith('Response'), label: body.replace(/^./, (c) => c.toUpperCase()) };
  }
}

/** The network: every payload is JSON text in flight, delayed, maybe lost. */
export class SimNetwork {
  latency = 100;
  jitter = 20;
  /** Probability in [0, 1] that a message is lost. */
  dropRate = 0;
  readonly isolated = new Set<string>();
  readonly inFlight = new Map<number, InFlight>();
  sent = 0;
  delivered = 0;
  dropped = 0;
  private nextId = 1;
  /** AppendEntries with entries delivered and not yet answered, per `follower<leader`: tells append responses from heartbeat responses. */
  private readonly unansweredAppends = new Map<string, number>();

  constructor(
    private readonly clock: SimClock,
    /** Hands a payload to the running node at `to`, if any. */
    private readonly receive: (from: string, to: string, payload: unknown) => boolean,
  ) {}

  private cut(from: string, to: string): boolean {
    return this.isolated.has(from) || this.isolated.has(to);
  }

  send(from: string, to: string, payload: object): void {
    const text = JSON.stringify(payload);
    const classified = classify(payload as Record<string, unknown>);
    const { response, label } = classified;
    let kind = classified.kind;
    if (label.startsWith('Append ')) {
      // An AppendEntriesResponse: colour it like the request it answers.
      const key = `${from}<${to}`;
      const pending = this.unansweredAppends.get(key) ?? 0;
      if (pending > 0) this.unansweredAppends.set(key, pending - 1);
      else kind = 'heartbeat';
    }
    const now = this.clock.now();
    const delay = Math.max(0, this.latency + (Math.random() * 2 - 1) * this.jitter);
    const message: InFlight = { id: this.nextId++, from, to, kind, response, label, sentAt: now, arriveAt: now + delay, droppedAt: null, done: false };
    this.sent++;
    if (this.cut(from, to)) {
      message.droppedAt = now + delay * 0.3;
    } else if (Math.random() < this.dropRate) {
      message.droppedAt = now + delay * (0.25 + Math.random() * 0.5);
    }
    this.inFlight.set(message.id, message);
    this.clock.setTimeout(() => {
      if (message.droppedAt !== null) {
        this.dropped++;
        message.done = true;
        return;
      }
      if (this.cut(from, to)) {
        // The partition appeared while the message was on its way.
        message.droppedAt = this.clock.now();
        this.dropped++;
        message.done = true;
        return;
      }
      message.done = true;
      this.inFlight.delete(message.id);
      if (this.receive(from, to, JSON.parse(text))) {
        this.delivered++;
        if (kind === 'append' && !response) {
          const key = `${to}<${from}`;
          this.unansweredAppends.set(key, (this.unansweredAppends.get(key) ?? 0) + 1);
        }
      }
    }, message.droppedAt !== null ? message.droppedAt - now : delay);
  }

  /** Forgets finished messages whose loss marker has been shown long enough. */
  sweep(keepCrossMs: number): void {
    const now = this.clock.now();
    for (const [id, m] of this.inFlight) {
      if (m.done && (m.droppedAt === null || now - m.droppedAt > keepCrossMs)) this.inFlight.delete(id);
    }
  }
}
