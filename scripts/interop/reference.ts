/**
 * Reference implementations used by the interop harness, independent of
 * src/wire and src/binary:
 *
 * - `referencePayload(message)`: core Message -> canonical proto3 JSON payload,
 *   written by hand from the proto3 JSON mapping rules.
 * - `referenceBinary(message)`: core Message -> protobuf binary through the
 *   ts-proto generated code in generated/.
 * - `canonicalize(payload)`: schema-driven normalisation of any proto3 JSON
 *   form of `webraft.v1.Message` (snake_case or lowerCamelCase names, 64-bit
 *   values as numbers or strings, enums as names or numbers, defaults present or
 *   omitted, any base64 padding) to the canonical form, so payloads produced
 *   by different implementations compare with a plain deep-equal.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import * as gen from '../../generated/webraft/v1/raft.js';
import type { Configuration, JsonValue, LogEntry, Message } from '../../src/core/types.js';

export type Payload = Record<string, unknown>;

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const protoDir = `${repoRoot}proto`;
export const protoFile = `${protoDir}/webraft/v1/raft.proto`;

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const u64 = (n: number) => String(n);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

const ENTRY_TYPE = { command: 'ENTRY_TYPE_COMMAND', noop: 'ENTRY_TYPE_NOOP', configuration: 'ENTRY_TYPE_CONFIGURATION' } as const;
const CHANGE_TYPE = { addVoter: 'MEMBERSHIP_CHANGE_TYPE_ADD_VOTER', remove: 'MEMBERSHIP_CHANGE_TYPE_REMOVE' } as const;

function configurationPayload(c: Configuration): Payload {
  const out: Payload = {};
  if (c.voters.length) out.voters = [...c.voters];
  if (c.learners.length) out.learners = [...c.learners];
  return out;
}

function entryPayload(e: LogEntry): Payload {
  const out: Payload = {};
  if (e.index) out.index = u64(e.index);
  if (e.term) out.term = u64(e.term);
  out.type = ENTRY_TYPE[e.type];
  if (e.command !== undefined) out.command = e.command;
  if (e.configuration !== undefined) out.configuration = configurationPayload(e.configuration);
  if (e.clientId) out.clientId = e.clientId;
  if (e.sequence) out.sequence = u64(e.sequence);
  if (e.firstOutstandingSequence) out.firstOutstandingSequence = u64(e.firstOutstandingSequence);
  return out;
}

/** Canonical proto3 JSON of a core message (hand-written reference). */
export function referencePayload(message: Message): Payload {
  const out: Payload = {};
  if (message.from) out.from = message.from;
  if (message.to) out.to = message.to;
  if (message.term) out.term = u64(message.term);
  const body: Payload = {};
  for (const [key, value] of Object.entries(message.body)) {
    if (key === 'type') continue;
    if (key === 'command') body.command = value as JsonValue;
    else if (key === 'entries') {
      if ((value as LogEntry[]).length) body.entries = (value as LogEntry[]).map(entryPayload);
    } else if (key === 'configuration') body.configuration = configurationPayload(value as Configuration);
    else if (key === 'changeType') body.changeType = CHANGE_TYPE[value as keyof typeof CHANGE_TYPE];
    else if (value instanceof Uint8Array) {
      if (value.length) body[key] = b64(value);
    } else if (typeof value === 'number') {
      if (value) body[key] = u64(value);
    } else if (typeof value === 'boolean' || typeof value === 'string') {
      if (value) body[key] = value;
    } else throw new Error(`referencePayload: unexpected field ${key}`);
  }
  out[lowerFirst(message.body.type)] = body;
  return out;
}

function genEntry(e: LogEntry): gen.Entry {
  return {
    index: e.index,
    term: e.term,
    type: { command: gen.EntryType.ENTRY_TYPE_COMMAND, noop: gen.EntryType.ENTRY_TYPE_NOOP, configuration: gen.EntryType.ENTRY_TYPE_CONFIGURATION }[e.type],
    command: e.command,
    configuration: e.configuration ? { voters: [...e.configuration.voters], learners: [...e.configuration.learners] } : undefined,
    clientId: e.clientId ?? '',
    sequence: e.sequence ?? 0,
    firstOutstandingSequence: e.firstOutstandingSequence ?? 0,
  };
}

/** Core message -> ts-proto generated Message (for the reference binary encoding). */
export function generatedMessage(message: Message): gen.Message {
  const { type, ...rest } = message.body as { type: string } & Record<string, unknown>;
  let value: Record<string, unknown> = rest;
  if (type === 'AppendEntriesRequest') value = { ...rest, entries: (rest.entries as LogEntry[]).map(genEntry) };
  if (type === 'MembershipChangeRequest')
    value = {
      ...rest,
      changeType:
        rest.changeType === 'addVoter'
          ? gen.MembershipChangeType.MEMBERSHIP_CHANGE_TYPE_ADD_VOTER
          : gen.MembershipChangeType.MEMBERSHIP_CHANGE_TYPE_REMOVE,
    };
  return { from: message.from, to: message.to, term: message.term, body: { $case: lowerFirst(type), value } as gen.Message['body'] };
}

/** Protobuf binary of a core message through ts-proto. */
export function referenceBinary(message: Message): Uint8Array {
  return gen.Message.encode(generatedMessage(message)).finish();
}

// ---------------------------------------------------------------------------
// Schema-driven canonicalisation (protobufjs reflection over proto/).

let rootCache: protobuf.Root | undefined;

/** proto/webraft/v1/raft.proto loaded with protobufjs (google/protobuf/struct.proto from its bundled common types). */
export function loadRoot(): protobuf.Root {
  if (rootCache) return rootCache;
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (target.startsWith('google/protobuf/')) return target; // bundled by protobufjs (common.js)
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(protoFile, { keepCase: false });
  root.resolveAll();
  rootCache = root;
  return root;
}

export function messageType(): protobuf.Type {
  return loadRoot().lookupType('webraft.v1.Message');
}

const INT64 = new Set(['uint64', 'int64', 'sint64', 'fixed64', 'sfixed64']);
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function canonField(field: protobuf.Field, v: unknown, path: string): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (rt.fullName === '.google.protobuf.Value') return v; // any JSON value, null included
    if (v === null) return undefined;
    return canonMessage(rt, v, path);
  }
  if (v === null) return undefined;
  if (rt instanceof protobuf.Enum) {
    const name = typeof v === 'number' ? rt.valuesById[v] : (v as string);
    if (name === undefined || rt.values[name] === undefined) throw new Error(`${path}: bad enum value ${String(v)}`);
    return rt.values[name] === 0 ? undefined : name;
  }
  if (INT64.has(field.type)) {
    if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`${path}: bad 64-bit value ${String(v)}`);
    const s = BigInt(v).toString();
    return s === '0' ? undefined : s;
  }
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') throw new Error(`${path}: not a string`);
      return v === '' ? undefined : v;
    case 'bool':
      if (typeof v !== 'boolean') throw new Error(`${path}: not a bool`);
      return v ? true : undefined;
    case 'bytes': {
      if (typeof v !== 'string') throw new Error(`${path}: bytes not a string`);
      const s = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('base64');
      return s === '' ? undefined : s;
    }
    default:
      throw new Error(`${path}: unsupported scalar type ${field.type}`);
  }
}

function canonMessage(type: protobuf.Type, obj: unknown, path: string): Payload {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${path}: not an object`);
  const input = obj as Record<string, unknown>;
  const known = new Set<string>();
  const out: Payload = {};
  for (const field of type.fieldsArray) {
    const names = [field.name, snake(field.name)];
    names.forEach((n) => known.add(n));
    const key = names.find((n) => Object.prototype.hasOwnProperty.call(input, n));
    if (key === undefined) continue;
    const v = input[key];
    const p = `${path}.${field.name}`;
    let c: unknown;
    if (field.repeated) {
      if (v === null) continue;
      if (!Array.isArray(v)) throw new Error(`${p}: not an array`);
      const arr = v.map((x, i) => canonField(field, x, `${p}[${i}]`));
      c = arr.length ? arr : undefined;
    } else c = canonField(field, v, p);
    if (c !== undefined) out[field.name] = c;
  }
  for (const k of Object.keys(input)) if (!known.has(k)) throw new Error(`${path}: unknown field ${k}`);
  return out;
}

/** Canonical form of any proto3 JSON rendering of webraft.v1.Message. Throws on unknown fields or bad types. */
export function canonicalize(payload: unknown): Payload {
  return canonMessage(messageType(), payload, 'Message');
}

// ---------------------------------------------------------------------------

/**
 * True when every JSON object inside the payload's commands lists its keys in
 * UTF-8 byte order — the order deterministic serializers (protobuf-go,
 * python's deterministic=True) use for the map inside google.protobuf.Struct.
 * Only then can an encoder that keeps insertion order produce identical bytes.
 */
export function objectKeysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(objectKeysSorted);
  if (value === null || typeof value !== 'object') return true;
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    if (Buffer.compare(Buffer.from(keys[i - 1]!), Buffer.from(keys[i]!)) >= 0) return false;
  }
  return Object.values(value).every(objectKeysSorted);
}

/** Whether the message contains any JSON command (the only source of map fields). */
export function commandsOf(payload: Payload): unknown[] {
  const out: unknown[] = [];
  const body = Object.values(payload).find((v) => typeof v === 'object' && v !== null) as Payload | undefined;
  if (!body) return out;
  if ('command' in body) out.push(body.command);
  for (const e of (body.entries as Payload[] | undefined) ?? []) if ('command' in e) out.push(e.command);
  return out;
}

function altField(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return rt.fullName === '.google.protobuf.Value' ? v : alternateMessage(rt, v as Payload);
  if (rt instanceof protobuf.Enum) return typeof v === 'string' ? rt.values[v] : v;
  if (INT64.has(field.type)) return Number(v);
  return v;
}

function alternateMessage(type: protobuf.Type, obj: Payload): Payload {
  const out: Payload = {};
  for (const field of type.fieldsArray) {
    if (!(field.name in obj)) continue;
    const v = obj[field.name];
    out[snake(field.name)] = field.repeated && Array.isArray(v) ? v.map((x) => altField(field, x)) : altField(field, v);
  }
  return out;
}

/**
 * The same message in the other accepted proto3 JSON spellings: snake_case
 * field names, 64-bit values as JSON numbers, enums as numbers. Input must be
 * canonical (as produced by canonicalize).
 */
export function alternatePayload(payload: Payload): Payload {
  return alternateMessage(messageType(), payload);
}
