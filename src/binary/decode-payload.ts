import type { JsonValue } from '../core/types.js';
import {
  CHANGE_TYPE_NAMES,
  CHANGE_TYPE_NUMBERS,
  encodeBase64,
  ENTRY_TYPE_NAMES,
  ENTRY_TYPE_NUMBERS,
  setOwn,
  type MessagePayload,
  type WireLimits,
} from '../wire/index.js';
import { ProtoReader } from './proto-reader.js';

/**
 * The one-pass decoder behind `decode`: protobuf binary straight to the
 * canonical proto3 JSON payload, checking every rule of the wire layer on the
 * way (the same rules `messageToPayload` applies to a decoded message, and
 * the same size estimate for `maxPayloadBytes`).
 *
 * It only accepts what it can decode without doubt: the canonical layout
 * that encoders write (each singular field at most once, the envelope before
 * the body, prevLogIndex and prevLogTerm before the entries, map entries key
 * first) and valid content. For anything else — malformed or invalid bytes,
 * unknown fields, repeated singular fields, any rule broken — it returns
 * undefined and `decode` runs the reference path (decodeMessage, then
 * messageToPayload), which produces the precise WireError or, for unusual but
 * valid bytes, the payload. So it never decides an error, and for the bytes
 * it accepts it returns exactly the payload the reference path returns
 * (test/binary/decode-payload.test.ts checks both on fuzzed input).
 * @internal
 */
export function decodePayloadFast(bytes: Uint8Array, limits: Readonly<WireLimits>): MessagePayload | undefined {
  try {
    return new FastDecoder(bytes, limits).message();
  } catch {
    return undefined; // declined (or malformed): the reference path decides
  }
}

/** Thrown to decline; caught in {@link decodePayloadFast}. */
const DECLINED: unique symbol = Symbol('declined');

function decline(): never {
  throw DECLINED;
}

/** Names of the oneof body fields 10..22 of `webraft.v1.Message`. */
const BODY_NAMES: readonly string[] = [
  'requestVoteRequest', 'requestVoteResponse', 'appendEntriesRequest', 'appendEntriesResponse',
  'installSnapshotRequest', 'installSnapshotResponse', 'timeoutNowRequest', 'proposeRequest',
  'proposeResponse', 'readIndexRequest', 'readIndexResponse', 'membershipChangeRequest',
  'membershipChangeResponse',
];
const FIRST_BODY_FIELD = 10;
const APPEND_ENTRIES_REQUEST = 12;

/** Proto3 JSON enum names by enum number. */
const ENTRY_TYPES: string[] = [];
for (const type of Object.keys(ENTRY_TYPE_NUMBERS) as (keyof typeof ENTRY_TYPE_NUMBERS)[]) {
  ENTRY_TYPES[ENTRY_TYPE_NUMBERS[type]] = ENTRY_TYPE_NAMES[type];
}
const CHANGE_TYPES: string[] = [];
for (const type of Object.keys(CHANGE_TYPE_NUMBERS) as (keyof typeof CHANGE_TYPE_NUMBERS)[]) {
  CHANGE_TYPES[CHANGE_TYPE_NUMBERS[type]] = CHANGE_TYPE_NAMES[type];
}
const ENTRY_TYPE_COMMAND = ENTRY_TYPE_NUMBERS.command;
const ENTRY_TYPE_CONFIGURATION = ENTRY_TYPE_NUMBERS.configuration;

/** Kinds of the fields of the bodies other than AppendEntriesRequest, with their proto3 JSON form. */
const enum Kind {
  /** uint64: decimal string, omitted when 0. */
  Uint,
  /** bool: omitted when false. */
  Bool,
  /** string: omitted when empty. */
  String,
  /** A required, non-empty address string. */
  Address,
  /** MembershipChangeType: required, by name. */
  ChangeType,
  /** A required google.protobuf.Value (a proposal's command). */
  Command,
  /** bytes: base64, omitted when empty. */
  Bytes,
  /** Configuration: always present. */
  Configuration,
}

/** Field `n` of each body is entry n - 1: [JSON name, kind]. Must match proto/ and messageToPayload. */
const SIMPLE_BODIES: Readonly<Record<number, readonly (readonly [string, Kind])[]>> = {
  10: [['lastLogIndex', Kind.Uint], ['lastLogTerm', Kind.Uint], ['preVote', Kind.Bool], ['leadershipTransfer', Kind.Bool]],
  11: [['voteGranted', Kind.Bool], ['preVote', Kind.Bool]],
  13: [
    ['success', Kind.Bool], ['matchIndex', Kind.Uint], ['conflictIndex', Kind.Uint], ['conflictTerm', Kind.Uint],
    ['readRound', Kind.Uint], ['lastLogIndex', Kind.Uint], ['rejectedIndex', Kind.Uint],
  ],
  14: [
    ['lastIncludedIndex', Kind.Uint], ['lastIncludedTerm', Kind.Uint], ['offset', Kind.Uint], ['data', Kind.Bytes],
    ['done', Kind.Bool], ['configuration', Kind.Configuration],
  ],
  15: [['lastIncludedIndex', Kind.Uint], ['nextOffset', Kind.Uint], ['done', Kind.Bool]],
  16: [],
  17: [['clientId', Kind.String], ['sequence', Kind.Uint], ['firstOutstandingSequence', Kind.Uint], ['command', Kind.Command]],
  18: [
    ['clientId', Kind.String], ['sequence', Kind.Uint], ['index', Kind.Uint], ['logTerm', Kind.Uint],
    ['errorCode', Kind.String], ['leaderHint', Kind.String],
  ],
  19: [['requestId', Kind.Uint]],
  20: [['requestId', Kind.Uint], ['readIndex', Kind.Uint], ['errorCode', Kind.String]],
  21: [['requestId', Kind.Uint], ['changeType', Kind.ChangeType], ['address', Kind.Address]],
  22: [['requestId', Kind.Uint], ['errorCode', Kind.String], ['index', Kind.Uint]],
};

/**
 * Budget charges, as the wire layer's walk counts them (walk-budget.ts,
 * json-value.ts): a scalar field 8, a string field its length + 8, a JSON
 * string its length + 2, number 8, boolean 5, null 4, array 2 + length,
 * object 2, object member key length + 4.
 */
const SCALAR = 8;

class FastDecoder {
  private readonly r: ProtoReader;
  private readonly maxString: number;
  private readonly maxDepth: number;
  /** Estimated payload size, counted like the wire layer does. */
  private size = 0;
  /** Term of the entry last decoded by {@link entry}. */
  private entryTerm = 0;

  constructor(
    bytes: Uint8Array,
    private readonly limits: Readonly<WireLimits>,
  ) {
    this.r = new ProtoReader(bytes);
    this.maxString = limits.maxStringLength;
    this.maxDepth = limits.maxJsonDepth;
  }

  message(): MessagePayload {
    const r = this.r;
    const end = r.buf.length;
    let from: string | undefined;
    let to: string | undefined;
    let term = -1;
    let bodyField = 0;
    let body: MessagePayload | undefined;
    while (r.pos < end) {
      const key = r.tag(end);
      if (body !== undefined) decline(); // anything after the body
      if (key === 0x0a && from === undefined) from = this.address(end);
      else if (key === 0x12 && to === undefined) to = this.address(end);
      else if (key === 0x18 && term < 0) term = this.uint(end);
      else if ((key & 7) === 2 && key >>> 3 >= FIRST_BODY_FIELD && key >>> 3 < FIRST_BODY_FIELD + BODY_NAMES.length) {
        bodyField = key >>> 3;
        const stop = r.lengthDelimitedEnd(end);
        body =
          bodyField === APPEND_ENTRIES_REQUEST
            ? this.appendEntriesRequest(stop, term < 0 ? 0 : term)
            : this.simpleBody(SIMPLE_BODIES[bodyField], stop);
      } else decline();
    }
    if (from === undefined || to === undefined || body === undefined) decline();
    if (this.size > this.limits.maxPayloadBytes) decline();
    const out: MessagePayload = { from, to };
    if (term > 0) out.term = String(term);
    out[BODY_NAMES[bodyField - FIRST_BODY_FIELD]] = body;
    return out;
  }

  /** A uint64 in 0..2^53-1. */
  private uint(end: number): number {
    const value = this.r.varint(end);
    if (value === Infinity) decline();
    return value;
  }

  /** A string field within maxStringLength, charged to the budget. */
  private string(end: number): string {
    const value = this.r.string(end);
    if (value.length > this.maxString) decline();
    this.size += value.length + SCALAR;
    return value;
  }

  /** A non-empty address. */
  private address(end: number): string {
    const value = this.string(end);
    if (value === '') decline();
    return value;
  }

  private appendEntriesRequest(end: number, term: number): MessagePayload {
    const r = this.r;
    let prevLogIndex = -1;
    let prevLogTerm = -1;
    let leaderCommit = -1;
    let readRound = -1;
    let entries: MessagePayload[] | undefined;
    let previousTerm = 0;
    while (r.pos < end) {
      const key = r.tag(end);
      if (key === 0x1a) {
        if (entries === undefined) {
          if (prevLogIndex < 0) prevLogIndex = 0;
          if (prevLogTerm < 0) prevLogTerm = 0;
          previousTerm = prevLogTerm;
          entries = [];
        }
        if (entries.length >= this.limits.maxEntriesPerMessage) decline();
        const stop = r.lengthDelimitedEnd(end);
        entries.push(this.entry(stop, prevLogIndex + 1 + entries.length, previousTerm, term));
        previousTerm = this.entryTerm;
      } else if (key === 0x08 && prevLogIndex < 0) prevLogIndex = this.uint(end);
      else if (key === 0x10 && prevLogTerm < 0) prevLogTerm = this.uint(end);
      else if (key === 0x20 && leaderCommit < 0) leaderCommit = this.uint(end);
      else if (key === 0x28 && readRound < 0) readRound = this.uint(end);
      else decline(); // unknown, repeated, or prevLogIndex/prevLogTerm after the entries
    }
    if (prevLogTerm > term) decline();
    const p: MessagePayload = {};
    if (prevLogIndex > 0) p.prevLogIndex = String(prevLogIndex);
    if (prevLogTerm > 0) p.prevLogTerm = String(prevLogTerm);
    if (entries !== undefined) p.entries = entries;
    if (leaderCommit > 0) p.leaderCommit = String(leaderCommit);
    if (readRound > 0) p.readRound = String(readRound);
    return p;
  }

  /** One LogEntry occupying [pos, end): contiguous index, terms in order, command/configuration as its type requires. */
  private entry(end: number, expectedIndex: number, previousTerm: number, messageTerm: number): MessagePayload {
    const r = this.r;
    let index = -1;
    let term = -1;
    let type = -1;
    let command: JsonValue | undefined;
    let configuration: MessagePayload | undefined;
    let clientId: string | undefined;
    let sequence = -1;
    let firstOutstanding = -1;
    while (r.pos < end) {
      const key = r.tag(end);
      if (key === 0x08 && index < 0) index = this.uint(end);
      else if (key === 0x10 && term < 0) term = this.uint(end);
      else if (key === 0x18 && type < 0) type = r.varint(end);
      else if (key === 0x22 && command === undefined) command = this.value(r.lengthDelimitedEnd(end), 0);
      else if (key === 0x2a && configuration === undefined) configuration = this.configuration(r.lengthDelimitedEnd(end));
      else if (key === 0x32 && clientId === undefined) clientId = this.r.string(end);
      else if (key === 0x38 && sequence < 0) sequence = this.uint(end);
      else if (key === 0x40 && firstOutstanding < 0) firstOutstanding = this.uint(end);
      else decline();
    }
    if (index < 0) index = 0;
    if (term < 0) term = 0;
    const typeName = ENTRY_TYPES[type];
    if (typeName === undefined) decline();
    if (index !== expectedIndex || term < previousTerm || term > messageTerm) decline();
    if ((type === ENTRY_TYPE_COMMAND) !== (command !== undefined)) decline();
    if ((type === ENTRY_TYPE_CONFIGURATION) !== (configuration !== undefined)) decline();
    this.size += 5 * SCALAR; // index, term, type, sequence, firstOutstandingSequence
    const p: MessagePayload = { index: String(index) };
    if (term > 0) p.term = String(term);
    p.type = typeName;
    if (command !== undefined) p.command = command === 0 ? 0 : command; // -0 as 0, as copyJsonValue returns it
    if (configuration !== undefined) p.configuration = configuration;
    if (clientId !== undefined && clientId !== '') {
      if (clientId.length > this.maxString) decline();
      this.size += clientId.length + SCALAR;
      p.clientId = clientId;
    }
    if (sequence > 0) p.sequence = String(sequence);
    if (firstOutstanding > 0) p.firstOutstandingSequence = String(firstOutstanding);
    this.entryTerm = term;
    return p;
  }

  /** A Configuration occupying [pos, end) as proto3 JSON: non-empty addresses, empty lists omitted. */
  private configuration(end: number): MessagePayload {
    const r = this.r;
    const voters: string[] = [];
    const learners: string[] = [];
    while (r.pos < end) {
      const key = r.tag(end);
      if (key === 0x0a) voters.push(this.address(end));
      else if (key === 0x12) learners.push(this.address(end));
      else decline();
    }
    const p: MessagePayload = {};
    if (voters.length !== 0) p.voters = voters;
    if (learners.length !== 0) p.learners = learners;
    return p;
  }

  /**
   * A google.protobuf.Value occupying [pos, end) with exactly one kind set;
   * `depth` is the number of lists and structs around it.
   */
  private value(end: number, depth: number): JsonValue {
    const r = this.r;
    let value: JsonValue;
    switch (r.pos < end ? r.tag(end) : decline()) {
      case 0x08: // null_value
        r.varint(end);
        this.size += 4;
        value = null;
        break;
      case 0x11: // number_value
        value = r.double(end);
        if (!Number.isFinite(value)) decline();
        this.size += 8;
        break;
      case 0x1a: // string_value
        value = r.string(end);
        if (value.length > this.maxString) decline();
        this.size += value.length + 2;
        break;
      case 0x20: // bool_value
        value = r.varint(end) !== 0;
        this.size += 5;
        break;
      case 0x2a: // struct_value
        value = this.struct(r.lengthDelimitedEnd(end), depth + 1);
        break;
      case 0x32: // list_value
        value = this.list(r.lengthDelimitedEnd(end), depth + 1);
        break;
      default:
        decline();
    }
    if (r.pos !== end) decline(); // a second kind, or an unknown field
    return value;
  }

  private struct(end: number, depth: number): JsonValue {
    if (depth > this.maxDepth) decline();
    const r = this.r;
    const out: Record<string, JsonValue> = {};
    this.size += 2;
    while (r.pos < end) {
      if (r.tag(end) !== 0x0a) decline();
      const entryEnd = r.lengthDelimitedEnd(end);
      if (r.pos === entryEnd || r.tag(entryEnd) !== 0x0a) decline();
      const key = r.string(entryEnd);
      if (key.length > this.maxString) decline();
      if (r.pos === entryEnd || r.tag(entryEnd) !== 0x12) decline();
      const member = this.value(r.lengthDelimitedEnd(entryEnd), depth);
      if (r.pos !== entryEnd) decline();
      this.size += key.length + 4;
      if (key === '__proto__') setOwn(out, key, member);
      else out[key] = member;
    }
    return out;
  }

  private list(end: number, depth: number): JsonValue {
    if (depth > this.maxDepth) decline();
    const r = this.r;
    const out: JsonValue[] = [];
    while (r.pos < end) {
      if (r.tag(end) !== 0x0a) decline();
      out.push(this.value(r.lengthDelimitedEnd(end), depth));
    }
    this.size += 2 + out.length;
    return out;
  }

  /** A body other than AppendEntriesRequest, described by `fields`. */
  private simpleBody(fields: readonly (readonly [string, Kind])[], end: number): MessagePayload {
    const r = this.r;
    const values = new Array<unknown>(fields.length);
    while (r.pos < end) {
      const key = r.tag(end);
      const n = key >>> 3;
      if (n > fields.length || values[n - 1] !== undefined) decline();
      const kind = fields[n - 1][1];
      const wireType = key & 7;
      if (wireType !== (kind === Kind.Uint || kind === Kind.Bool || kind === Kind.ChangeType ? 0 : 2)) decline();
      let value: unknown;
      switch (kind) {
        case Kind.Uint:
          value = this.uint(end);
          break;
        case Kind.Bool:
          value = r.varint(end) !== 0;
          break;
        case Kind.ChangeType:
          value = r.varint(end);
          break;
        case Kind.String:
        case Kind.Address:
          value = r.string(end);
          break;
        case Kind.Command: {
          const command = this.value(r.lengthDelimitedEnd(end), 0);
          value = command === 0 ? 0 : command; // -0 as 0, as copyJsonValue returns it
          break;
        }
        case Kind.Bytes:
          value = r.bytes(end);
          break;
        case Kind.Configuration:
          value = this.configuration(r.lengthDelimitedEnd(end));
          break;
      }
      values[n - 1] = value;
    }
    const p: MessagePayload = {};
    for (let i = 0; i < fields.length; i++) {
      const [name, kind] = fields[i];
      const value = values[i];
      switch (kind) {
        case Kind.Uint:
          if (value !== undefined && value !== 0) p[name] = String(value);
          break;
        case Kind.Bool:
          if (value === true) p[name] = true;
          break;
        case Kind.String: {
          const text = (value ?? '') as string;
          if (text.length > this.maxString) decline();
          this.size += text.length + SCALAR;
          if (text !== '') p[name] = text;
          break;
        }
        case Kind.Address: {
          const text = (value ?? '') as string;
          if (text === '' || text.length > this.maxString) decline();
          this.size += text.length + SCALAR;
          p[name] = text;
          break;
        }
        case Kind.ChangeType: {
          const changeType = CHANGE_TYPES[value as number];
          if (changeType === undefined) decline();
          p[name] = changeType;
          break;
        }
        case Kind.Command:
          if (value === undefined) decline();
          p[name] = value;
          break;
        case Kind.Bytes: {
          const data = (value ?? new Uint8Array(0)) as Uint8Array;
          this.size += Math.ceil(data.length / 3) * 4 + SCALAR;
          if (data.length !== 0) p[name] = encodeBase64(data);
          break;
        }
        case Kind.Configuration:
          p[name] = value ?? {};
          break;
      }
    }
    return p;
  }
}
