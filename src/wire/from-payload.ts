import { BODY_CASES, type WireMessageName } from '../../generated/webraft/v1/raft.wire.js';
import type {
  AppendEntriesRequest,
  Configuration,
  LogEntry,
  Message,
  MessageBody,
  MessageType,
} from '../core/types.js';
import { describeValue, isPlainObject } from '../core/json.js';
import { checkEntry, checkPrevLogTerm } from './entry-rules.js';
import { parseEntryType, parseEnum, type EnumMapping } from './enums.js';
import { toWireError, WireError } from './errors.js';
import {
  eitherName,
  fieldPath,
  readBool,
  readBytes,
  readField,
  readObject,
  readRequiredAddress,
  requiredAddressValue,
  readString,
  readStringList,
  readUint64,
  stringValue,
  uint64Value,
  type PayloadObject,
} from './field-readers.js';
import { copyJsonField, copyJsonValue } from './json-value.js';
import { resolveLimits, type WireLimits } from './limits.js';
import { entryPath } from './paths.js';
import { BODY_OF_TYPE, FIELDS, type CodecField } from './schema.js';
import { checkBudget, newBudget, type WalkBudget } from './walk-budget.js';

/** Options of {@link fromPayload}. */
export interface FromPayloadOptions {
  /** Address the payload arrived from; a payload claiming another `from` is SENDER_MISMATCH. */
  from?: string;
  /** Bounds for this payload; unset fields take {@link DEFAULT_WIRE_LIMITS}. */
  limits?: Partial<WireLimits>;
  /**
   * Keep the payload's command values (validated) instead of copying them:
   * for a caller that takes the payload over and never lets it change. Default false.
   */
  adoptCommands?: boolean;
}

/** Outcome of {@link fromPayload}: the core message, or why the payload was rejected. */
export type FromPayloadResult = { ok: true; message: Message } | { ok: false; error: WireError };

/**
 * Validates an incoming proto3 JSON payload and converts it to a core
 * {@link Message} that shares no object with `payload` (unless
 * `adoptCommands`: then its commands are the payload's). Never throws.
 *
 * Accepts canonical proto3 JSON and the other forms proto3 parsers accept:
 * uint64 as number or decimal string, enums by name or number, bytes as
 * standard or URL-safe base64, `null` for absent fields, snake_case names.
 * Unknown top-level keys are ignored and never copied.
 */
export function fromPayload(payload: unknown, options?: FromPayloadOptions): FromPayloadResult {
  try {
    const limits = resolveLimits(options?.limits);
    return { ok: true, message: payloadToMessage(payload, options?.from, limits, options?.adoptCommands !== true) };
  } catch (thrown) {
    return { ok: false, error: toWireError(thrown, 'INVALID_TYPE') };
  }
}

/** The oneof body of each top-level key, lowerCamelCase and snake_case. */
const BODY_KEYS: ReadonlyMap<string, MessageType> = new Map<string, MessageType>(
  BODY_CASES.flatMap((body) => [[body.name, body.type] as const, [body.protoName, body.type] as const]),
);

/** lowerCamelCase JSON name of each body, for paths and error messages. */
const BODY_JSON_NAMES = Object.fromEntries(BODY_CASES.map((body) => [body.type, body.name])) as Readonly<Record<MessageType, string>>;

/**
 * The throwing core of {@link fromPayload}. With `copyCommands` false the
 * returned message references the payload's command values (validated, not
 * copied), for callers that only read it transiently.
 * @internal
 */
export function payloadToMessage(
  payload: unknown,
  expectedFrom: string | undefined,
  limits: Readonly<WireLimits>,
  copyCommands: boolean,
): Message {
  if (!isPlainObject(payload)) {
    throw new WireError('NOT_AN_OBJECT', `payload must be a JSON object, got ${describeValue(payload)}`);
  }
  const budget = newBudget(limits);
  let bodyType: MessageType | undefined;
  let bodyKey = '';
  let bodyValue: unknown;
  let unknownObjectKey: string | undefined;
  const keys = Object.keys(payload);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (key === 'from' || key === 'to' || key === 'term') continue; // the envelope's own fields
    const type = BODY_KEYS.get(key);
    if (type === undefined) {
      if (unknownObjectKey === undefined && isPlainObject(payload[key])) unknownObjectKey = key;
      continue;
    }
    const value = payload[key];
    if (value === null || value === undefined) continue;
    if (bodyType !== undefined) {
      if (bodyType === type) {
        throw new WireError('DUPLICATE_FIELD', `given both as "${bodyKey}" and as "${key}"`, BODY_JSON_NAMES[type]);
      }
      throw new WireError('MULTIPLE_BODIES', `payload sets more than one body: "${bodyKey}" and "${key}"`);
    }
    bodyType = type;
    bodyKey = key;
    bodyValue = value;
  }
  if (bodyType === undefined) {
    if (unknownObjectKey !== undefined) {
      throw new WireError('UNKNOWN_BODY', `payload sets no known body; unknown body "${unknownObjectKey}"`);
    }
    throw new WireError('MISSING_BODY', 'payload sets no body (exactly one such as appendEntriesRequest is required)');
  }

  const from = requiredAddressValue(present(payload.from), 'from', '', budget);
  if (expectedFrom !== undefined && from !== expectedFrom) {
    throw new WireError(
      'SENDER_MISMATCH',
      `payload claims sender ${describeValue(from)} but arrived from ${describeValue(expectedFrom)}`,
      'from',
    );
  }
  const to = requiredAddressValue(present(payload.to), 'to', '', budget);
  const term = uint64Value(present(payload.term), 'term', '', budget);
  const path = BODY_JSON_NAMES[bodyType];
  if (!isPlainObject(bodyValue)) {
    throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(bodyValue)}`, path);
  }
  const body = parseBody(bodyType, bodyValue, path, term, budget, copyCommands);
  checkBudget(budget, '');
  return { from, to, term, body };
}

function parseBody(
  type: MessageType,
  b: PayloadObject,
  path: string,
  term: number,
  budget: WalkBudget,
  copyCommands: boolean,
): MessageBody {
  if (type === 'AppendEntriesRequest') return parseAppendEntriesRequest(b, path, term, budget, copyCommands);
  return { type, ...parseFields(BODY_OF_TYPE[type].fields, b, path, budget, copyCommands) } as MessageBody;
}

/**
 * The core form of the proto3 JSON object `b` whose fields `fields` lists (a
 * body other than AppendEntriesRequest, or a message inside one): every field
 * read under either name and checked, absent ones as their proto3 default.
 */
function parseFields(
  fields: readonly CodecField[],
  b: PayloadObject,
  path: string,
  budget: WalkBudget,
  copyCommands: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const { name, protoName } = field;
    switch (field.kind) {
      case 'uint64':
        out[name] = readUint64(b, name, protoName, path, budget);
        break;
      case 'bool':
        out[name] = readBool(b, name, protoName, path, budget);
        break;
      case 'string':
        if (field.repeated) out[name] = readStringList(b, name, protoName, path, budget, field.address);
        else out[name] = field.address ? readRequiredAddress(b, name, protoName, path, budget) : readString(b, name, protoName, path, budget);
        break;
      case 'bytes':
        out[name] = readBytes(b, name, protoName, path, budget);
        break;
      case 'enum':
        out[name] = parseEnum(field.enumMapping as EnumMapping<string>, readField(b, name, protoName, path), fieldPath(path, name));
        break;
      case 'message': {
        const message = readObject(b, name, protoName, path);
        out[name] = parseFields(FIELDS[field.message as WireMessageName], message ?? {}, fieldPath(path, name), budget, copyCommands);
        break;
      }
      case 'value': {
        // A google.protobuf.Value field: JSON null is the null value, not absence.
        const value = b[name] === undefined ? b[protoName] : b[name];
        if (value === undefined) {
          if (field.required) throw new WireError('MISSING_FIELD', 'is required', fieldPath(path, name));
          break;
        }
        out[name] = copyJsonValue(value, fieldPath(path, name), budget, copyCommands);
        break;
      }
    }
  }
  return out;
}

function parseAppendEntriesRequest(
  b: PayloadObject,
  path: string,
  term: number,
  budget: WalkBudget,
  copyCommands: boolean,
): AppendEntriesRequest {
  // The hot message: fields loaded by name rather than through readField's computed keys.
  const prevLogIndex = uint64Value(eitherName(b.prevLogIndex, b.prev_log_index, 'prevLogIndex', 'prev_log_index', path), 'prevLogIndex', path, budget);
  const prevLogTerm = uint64Value(eitherName(b.prevLogTerm, b.prev_log_term, 'prevLogTerm', 'prev_log_term', path), 'prevLogTerm', path, budget);
  const leaderCommit = uint64Value(eitherName(b.leaderCommit, b.leader_commit, 'leaderCommit', 'leader_commit', path), 'leaderCommit', path, budget);
  const readRound = uint64Value(eitherName(b.readRound, b.read_round, 'readRound', 'read_round', path), 'readRound', path, budget);
  checkPrevLogTerm(prevLogTerm, term);
  const raw = present(b.entries);
  let entries: LogEntry[];
  if (raw === undefined) {
    entries = [];
  } else {
    if (!Array.isArray(raw)) {
      throw new WireError('INVALID_TYPE', `must be an array, got ${describeValue(raw)}`, fieldPath(path, 'entries'));
    }
    const count = raw.length;
    if (count > budget.limits.maxEntriesPerMessage) {
      throw new WireError(
        'LIMIT_EXCEEDED',
        `${count} entries exceed maxEntriesPerMessage (${budget.limits.maxEntriesPerMessage})`,
        fieldPath(path, 'entries'),
      );
    }
    entries = new Array<LogEntry>(count);
    let previousTerm = prevLogTerm;
    for (let i = 0; i < count; i++) {
      const entry = parseEntry(raw[i], i, budget, copyCommands);
      checkEntry(entry.index, entry.term, entry.type, entry.command !== undefined, entry.configuration !== undefined, i, prevLogIndex, previousTerm, term);
      // Consecutive entries usually share a client id: keep one string, not one per entry.
      if (i > 0 && entry.clientId !== undefined && entry.clientId === entries[i - 1].clientId) entry.clientId = entries[i - 1].clientId;
      previousTerm = entry.term;
      entries[i] = entry;
      if (budget.size > budget.limits.maxPayloadBytes) checkBudget(budget, entryPath(i));
    }
  }
  return { type: 'AppendEntriesRequest', prevLogIndex, prevLogTerm, entries, leaderCommit, readRound };
}

function parseEntry(raw: unknown, i: number, budget: WalkBudget, copyCommands: boolean): LogEntry {
  if (!isPlainObject(raw)) throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(raw)}`, entryPath(i));
  // Fields are loaded by name (fast for the usual uniform entries) and paths built only for errors.
  const index = uint64Value(present(raw.index), 'index', i, budget);
  const term = uint64Value(present(raw.term), 'term', i, budget);
  const type = parseEntryType(present(raw.type), i);
  // A google.protobuf.Value field: JSON null is the null value, not absence.
  const rawCommand: unknown = raw.command;
  const command = rawCommand === undefined ? undefined : copyJsonField(rawCommand, i, 'command', budget, copyCommands);
  const rawConfiguration = readObject(raw, 'configuration', 'configuration', i);
  const configuration = rawConfiguration === undefined ? undefined : parseConfiguration(rawConfiguration, `${entryPath(i)}.configuration`, budget);
  const clientId = stringValue(eitherName(raw.clientId, raw.client_id, 'clientId', 'client_id', i), 'clientId', i, budget);
  const sequence = uint64Value(present(raw.sequence), 'sequence', i, budget);
  const firstOutstanding = uint64Value(
    eitherName(raw.firstOutstandingSequence, raw.first_outstanding_sequence, 'firstOutstandingSequence', 'first_outstanding_sequence', i),
    'firstOutstandingSequence',
    i,
    budget,
  );
  if (command !== undefined && configuration === undefined && clientId !== '' && sequence !== 0 && firstOutstanding === 0) {
    // The usual replicated proposal, built as one literal so that all its fields sit in the object itself.
    return { index, term, type, command, clientId, sequence };
  }
  if (command !== undefined && configuration === undefined && clientId === '' && sequence === 0 && firstOutstanding === 0) {
    // A leader's own proposal (no session): one literal as well.
    return { index, term, type, command };
  }
  const entry: LogEntry = { index, term, type };
  if (command !== undefined) entry.command = command;
  if (configuration !== undefined) entry.configuration = configuration;
  if (clientId !== '') entry.clientId = clientId;
  if (sequence !== 0) entry.sequence = sequence;
  if (firstOutstanding !== 0) entry.firstOutstandingSequence = firstOutstanding;
  return entry;
}

/** A one-word field's value as {@link readField} returns it (null is absent). */
function present(value: unknown): unknown {
  return value === null ? undefined : value;
}

function parseConfiguration(obj: PayloadObject, path: string, budget: WalkBudget): Configuration {
  return parseFields(FIELDS.Configuration, obj, path, budget, false) as unknown as Configuration;
}
