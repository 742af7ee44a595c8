import { isPlainObject, isWellFormedString, uint64OrMinus1, type WireLimits } from '../wire/index.js';
import { ProtoWriter } from './proto-writer.js';

/**
 * The one-pass encoder behind `encode` for the hot message,
 * AppendEntriesRequest: it validates the proto3 JSON payload while writing
 * its protobuf binary, instead of building a core message first.
 *
 * It only accepts what it can encode without doubt: the canonical payload
 * shape (lowerCamelCase names, no nulls, no unknown top-level keys) with
 * valid content. For anything else — other bodies, snake_case or null
 * fields, any rule broken — it returns undefined and `encode` runs the
 * reference path (payloadToMessage, then encodeMessage), which produces the
 * precise WireError or the bytes. For the payloads it accepts it returns
 * exactly the reference bytes, and it applies the same checks and the same
 * `maxPayloadBytes` estimate as payloadToMessage
 * (test/binary/encode-payload.test.ts checks both on fuzzed input).
 * @internal
 */
export function encodePayloadFast(payload: unknown, limits: Readonly<WireLimits>): Uint8Array | undefined {
  const encoder = new FastEncoder(limits);
  try {
    return encoder.message(payload);
  } catch {
    encoder.abandon();
    return undefined; // declined: the reference path decides
  }
}

/** Thrown to decline; caught in {@link encodePayloadFast}. */
const DECLINED: unique symbol = Symbol('declined');

function decline(): never {
  throw DECLINED;
}

/** Entry type numbers by proto3 JSON name or number. */
function entryType(value: unknown): number {
  switch (value) {
    case 'ENTRY_TYPE_COMMAND':
    case 1:
      return 1;
    case 'ENTRY_TYPE_NOOP':
    case 2:
      return 2;
    case 'ENTRY_TYPE_CONFIGURATION':
    case 3:
      return 3;
    default:
      return decline();
  }
}

const ENTRY_TYPE_COMMAND = 1;
const ENTRY_TYPE_CONFIGURATION = 3;

/** Budget charges of payloadToMessage (walk-budget.ts, json-value.ts); see decode-payload.ts. */
const SCALAR = 8;

class FastEncoder {
  private readonly w = new ProtoWriter();
  private readonly maxString: number;
  /** Estimated payload size, counted like payloadToMessage does. */
  private size = 0;

  constructor(private readonly limits: Readonly<WireLimits>) {
    this.maxString = limits.maxStringLength;
  }

  /** Gives up the writer's buffer after a decline. */
  abandon(): void {
    this.w.abandon();
  }

  message(payload: unknown): Uint8Array {
    if (!isPlainObject(payload)) decline();
    const keys = Object.keys(payload);
    let body: unknown;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === 'appendEntriesRequest') body = payload.appendEntriesRequest;
      else if (key !== 'from' && key !== 'to' && key !== 'term') decline();
    }
    if (!isPlainObject(body)) decline();
    const from = this.address(payload.from);
    const to = this.address(payload.to);
    const term = this.uint(payload.term);
    const w = this.w;
    const start = w.written;
    this.appendEntriesRequest(body, term);
    w.join(start, 12);
    if (this.size > this.limits.maxPayloadBytes) decline();
    if (term !== 0) w.uint64Field(3, term);
    w.stringField(2, to);
    w.stringField(1, from);
    return w.finish();
  }

  /** A uint64 field (number or decimal string; absent is 0), charged to the budget. */
  private uint(value: unknown): number {
    this.size += SCALAR;
    if (value === undefined) return 0;
    const parsed = uint64OrMinus1(value);
    return parsed >= 0 ? parsed : decline();
  }

  /** A string within maxStringLength and well-formed, charged to the budget. */
  private string(value: unknown): string {
    if (typeof value !== 'string' || value.length > this.maxString || !isWellFormedString(value)) decline();
    this.size += value.length + SCALAR;
    return value;
  }

  /** A non-empty address. */
  private address(value: unknown): string {
    const address = this.string(value);
    return address === '' ? decline() : address;
  }

  /** The body's fields, from the last field number to the first (the writer fills back to front). */
  private appendEntriesRequest(b: Record<string, unknown>, term: number): void {
    if (b.prev_log_index !== undefined || b.prev_log_term !== undefined) decline();
    if (b.leader_commit !== undefined || b.read_round !== undefined) decline();
    const prevLogIndex = this.uint(b.prevLogIndex);
    const prevLogTerm = this.uint(b.prevLogTerm);
    const leaderCommit = this.uint(b.leaderCommit);
    const readRound = this.uint(b.readRound);
    if (prevLogTerm > term) decline();
    const w = this.w;
    if (readRound !== 0) w.uint64Field(5, readRound);
    if (leaderCommit !== 0) w.uint64Field(4, leaderCommit);
    const entries = b.entries;
    if (entries !== undefined) {
      if (!Array.isArray(entries) || entries.length > this.limits.maxEntriesPerMessage) decline();
      // Terms must not decrease from prevLogTerm up to the message term; checked from the last entry down.
      let laterTerm = term;
      for (let i = entries.length - 1; i >= 0; i--) laterTerm = this.entry(entries[i], prevLogIndex + 1 + i, laterTerm);
      if (laterTerm < prevLogTerm) decline();
    }
    if (prevLogTerm !== 0) w.uint64Field(2, prevLogTerm);
    if (prevLogIndex !== 0) w.uint64Field(1, prevLogIndex);
  }

  /** Writes one entry (field 3) and returns its term, which must not exceed `laterTerm`. */
  private entry(e: unknown, expectedIndex: number, laterTerm: number): number {
    if (!isPlainObject(e)) decline();
    if (e.client_id !== undefined || e.first_outstanding_sequence !== undefined) decline();
    const index = this.uint(e.index);
    const term = this.uint(e.term);
    const type = entryType(e.type);
    if (index !== expectedIndex || term > laterTerm) decline();
    const command = e.command;
    const configuration = e.configuration;
    if ((type === ENTRY_TYPE_COMMAND) !== (command !== undefined)) decline();
    if ((type === ENTRY_TYPE_CONFIGURATION) !== (configuration !== undefined)) decline();
    const clientId = e.clientId === undefined ? '' : this.string(e.clientId);
    const sequence = this.uint(e.sequence);
    const firstOutstanding = this.uint(e.firstOutstandingSequence);
    const w = this.w;
    const start = w.written;
    if (firstOutstanding !== 0) w.uint64Field(8, firstOutstanding);
    if (sequence !== 0) w.uint64Field(7, sequence);
    if (clientId !== '') w.stringField(6, clientId);
    if (configuration !== undefined) this.configuration(configuration);
    if (command !== undefined) {
      const value = w.written;
      // A top-level -0 is encoded as 0, as payloadToMessage returns it; nested ones stay -0.
      this.value(command === 0 ? 0 : command, 0);
      w.join(value, 4);
    }
    w.uint64Field(3, type);
    if (term !== 0) w.uint64Field(2, term);
    if (index !== 0) w.uint64Field(1, index);
    w.join(start, 3);
    return term;
  }

  /** A Configuration (field 5 of an entry): lists of non-empty addresses, absent lists empty. */
  private configuration(c: unknown): void {
    if (!isPlainObject(c)) decline();
    const voters = c.voters === undefined ? [] : c.voters;
    const learners = c.learners === undefined ? [] : c.learners;
    if (!Array.isArray(voters) || !Array.isArray(learners)) decline();
    const w = this.w;
    const start = w.written;
    for (let i = learners.length - 1; i >= 0; i--) w.stringField(2, this.address(learners[i]));
    for (let i = voters.length - 1; i >= 0; i--) w.stringField(1, this.address(voters[i]));
    w.join(start, 5);
  }

  /**
   * The fields of a google.protobuf.Value holding `value`, checked as a JSON
   * value within the limits; `depth` is the number of arrays and objects around it.
   */
  private value(value: unknown, depth: number): void {
    const w = this.w;
    switch (typeof value) {
      case 'string':
        if (value.length > this.maxString || !isWellFormedString(value)) decline();
        this.size += value.length + 2;
        w.stringField(3, value);
        return;
      case 'number':
        if (!Number.isFinite(value)) decline();
        this.size += 8;
        w.doubleField(2, value);
        return;
      case 'boolean':
        this.size += 5;
        w.boolField(4, value);
        return;
      case 'object': {
        if (value === null) {
          this.size += 4;
          w.uint64Field(1, 0);
          return;
        }
        if (depth >= this.limits.maxJsonDepth) decline();
        const start = w.written;
        if (Array.isArray(value)) {
          this.size += 2 + value.length;
          for (let i = value.length - 1; i >= 0; i--) {
            const element = w.written;
            this.value(value[i], depth + 1);
            w.join(element, 1);
          }
          w.join(start, 6);
          return;
        }
        if (!isPlainObject(value)) decline();
        const keys = Object.keys(value);
        this.size += 2;
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i];
          if (key.length > this.maxString || !isWellFormedString(key)) decline();
          this.size += key.length + 4;
          const entry = w.written;
          const member = w.written;
          this.value(value[key], depth + 1);
          w.join(member, 2);
          w.stringField(1, key);
          w.join(entry, 1);
        }
        w.join(start, 5);
        return;
      }
      default:
        decline();
    }
  }
}
