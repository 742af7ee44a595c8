import { describeValue, isPlainObject } from '../core/json.js';
import type { WireMessageName } from '../../generated/webraft/v1/raft.wire.js';
import type { AppendEntriesRequest, JsonValue, LogEntry, Message, MessageBody, MessageType } from '../core/types.js';
import { encodeBase64 } from './base64.js';
import {
  checkAddress,
  checkBool,
  checkString,
  checkOptionalString,
  checkOptionalUint,
  checkUint,
  checkUintAt,
  copyStringList,
} from './core-value-checks.js';
import { checkEntry, checkPrevLogTerm, entryPath } from './entry-rules.js';
import { ENTRY_TYPES, enumName, type EnumMapping } from './enums.js';
import { WireError } from './errors.js';
import { handleCommand, type CommandHandling } from './json-value.js';
import { resolveLimits, type WireLimits } from './limits.js';
import type { MessagePayload } from './payload.js';
import { fieldPath } from './paths.js';
import { BODY_OF_TYPE, FIELDS, type CodecField } from './schema.js';
import { checkBudget, newBudget, SCALAR_FIELD_BYTES, type WalkBudget } from './walk-budget.js';

/**
 * Converts a core {@link Message} to a fresh proto3 canonical JSON object:
 * lowerCamelCase names, uint64 as decimal strings, enums by name, defaults
 * omitted (the oneof body is always present), bytes as padded standard base64,
 * commands as plain JSON values deep-copied from the message.
 *
 * The result survives `JSON.parse(JSON.stringify(payload))` unchanged, shares
 * no object with `message`, and is read by any proto3 JSON parser.
 *
 * @param limits bounds the outgoing payload must respect (default {@link DEFAULT_WIRE_LIMITS}).
 * @throws WireError when the message breaks the wire contract (a core bug).
 */
export function toPayload(message: Message, limits?: Partial<WireLimits>): MessagePayload {
  return messageToPayload(message, resolveLimits(limits), 'validate-copy');
}

/**
 * {@link toPayload} with the handling of commands chosen by the caller (see
 * {@link CommandHandling}): the binary codec references the commands of the
 * message it just decoded, and a node copies its own without checking again.
 * @internal
 */
export function messageToPayload(message: Message, limits: Readonly<WireLimits>, commands: CommandHandling): MessagePayload {
  if (!isPlainObject(message)) {
    throw new WireError('NOT_AN_OBJECT', `message must be an object, got ${describeValue(message)}`);
  }
  const budget = newBudget(limits);
  const out = envelopeToPayload(message.from, message.to, message.term, budget);
  const body: MessageBody | undefined = message.body;
  if (!isPlainObject(body)) {
    throw new WireError('MISSING_BODY', `must be an object, got ${describeValue(body)}`, 'body');
  }
  const type: unknown = body.type;
  if (typeof type !== 'string' || !Object.hasOwn(BODY_OF_TYPE, type)) {
    throw new WireError('UNKNOWN_BODY', `unknown message body type ${describeValue(type)}`, 'body.type');
  }
  const bodyCase = BODY_OF_TYPE[type as MessageType];
  out[bodyCase.name] =
    body.type === 'AppendEntriesRequest'
      ? appendEntriesRequestToPayload(body, message.term, budget, commands)
      : fieldsToPayload(bodyCase.fields, body as unknown as Record<string, unknown>, bodyCase.name, budget, commands);
  checkBudget(budget, '');
  return out;
}

/**
 * The envelope of a payload, `{ from, to, term }` with a zero term omitted,
 * checked as {@link messageToPayload} checks it.
 * @internal
 */
export function envelopeToPayload(from: unknown, to: unknown, term: unknown, budget: WalkBudget): MessagePayload {
  const out: MessagePayload = { from: checkAddress(from, '', 'from', budget), to: checkAddress(to, '', 'to', budget) };
  const checkedTerm = checkUint(term, 'term');
  if (checkedTerm !== 0) out.term = String(checkedTerm);
  return out;
}

/**
 * The proto3 JSON of the core object `object` whose fields `fields` lists (a
 * body other than AppendEntriesRequest, or a message inside one), each field
 * checked: defaults omitted, a message-typed field always present.
 */
function fieldsToPayload(
  fields: readonly CodecField[],
  object: Record<string, unknown>,
  path: string,
  budget: WalkBudget,
  commands: CommandHandling,
): MessagePayload {
  const p: MessagePayload = {};
  for (const field of fields) {
    const name = field.name;
    const value = object[name];
    switch (field.kind) {
      case 'uint64': {
        const number = checkUintAt(value, path, name);
        if (number !== 0) p[name] = String(number);
        break;
      }
      case 'bool':
        if (checkBool(value, path, name)) p[name] = true;
        break;
      case 'string':
        if (field.repeated) {
          const list = copyStringList(value, fieldPath(path, name), budget, field.address);
          if (list.length !== 0) p[name] = list;
        } else {
          const text = field.address ? checkAddress(value, path, name, budget) : checkString(value, path, name, budget);
          if (text !== '') p[name] = text;
        }
        break;
      case 'bytes': {
        if (!(value instanceof Uint8Array)) {
          throw new WireError('INVALID_TYPE', `must be a Uint8Array, got ${describeValue(value)}`, fieldPath(path, name));
        }
        budget.size += Math.ceil(value.length / 3) * 4 + SCALAR_FIELD_BYTES;
        if (budget.size > budget.limits.maxPayloadBytes) checkBudget(budget, fieldPath(path, name));
        if (value.length !== 0) p[name] = encodeBase64(value);
        break;
      }
      case 'enum':
        p[name] = enumName(field.enumMapping as EnumMapping<string>, value as string, path, name);
        break;
      case 'message':
        if (!isPlainObject(value)) {
          throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(value)}`, fieldPath(path, name));
        }
        p[name] = fieldsToPayload(FIELDS[field.message as WireMessageName], value, fieldPath(path, name), budget, commands);
        break;
      case 'value':
        if (value === undefined) {
          if (field.required) throw new WireError('MISSING_FIELD', 'is required', fieldPath(path, name));
          break;
        }
        p[name] = handleCommand(value, path, name, budget, commands);
        break;
    }
  }
  return p;
}

function appendEntriesRequestToPayload(
  body: AppendEntriesRequest,
  term: number,
  budget: WalkBudget,
  commands: CommandHandling,
): MessagePayload {
  const p: MessagePayload = {};
  const prevLogIndex = checkUint(body.prevLogIndex, 'appendEntriesRequest.prevLogIndex');
  const prevLogTerm = checkUint(body.prevLogTerm, 'appendEntriesRequest.prevLogTerm');
  const leaderCommit = checkUint(body.leaderCommit, 'appendEntriesRequest.leaderCommit');
  const readRound = checkUint(body.readRound, 'appendEntriesRequest.readRound');
  checkPrevLogTerm(prevLogTerm, term);
  if (prevLogIndex !== 0) p.prevLogIndex = String(prevLogIndex);
  if (prevLogTerm !== 0) p.prevLogTerm = String(prevLogTerm);
  const entries: unknown = body.entries;
  if (!Array.isArray(entries)) {
    throw new WireError('INVALID_TYPE', `must be an array, got ${describeValue(entries)}`, 'appendEntriesRequest.entries');
  }
  const count = entries.length;
  if (count > budget.limits.maxEntriesPerMessage) {
    throw new WireError(
      'LIMIT_EXCEEDED',
      `${count} entries exceed maxEntriesPerMessage (${budget.limits.maxEntriesPerMessage})`,
      'appendEntriesRequest.entries',
    );
  }
  if (count !== 0) {
    const out = new Array<MessagePayload>(count);
    let previousTerm = prevLogTerm;
    for (let i = 0; i < count; i++) {
      const entry: unknown = entries[i];
      out[i] = entryToPayload(entry, i, prevLogIndex, previousTerm, term, budget, commands);
      previousTerm = (entry as LogEntry).term;
      if (budget.size > budget.limits.maxPayloadBytes) checkBudget(budget, entryPath(i));
    }
    p.entries = out;
  }
  if (leaderCommit !== 0) p.leaderCommit = String(leaderCommit);
  if (readRound !== 0) p.readRound = String(readRound);
  return p;
}

function entryToPayload(
  entry: unknown,
  i: number,
  prevLogIndex: number,
  previousTerm: number,
  messageTerm: number,
  budget: WalkBudget,
  commands: CommandHandling,
): MessagePayload {
  if (!isPlainObject(entry)) {
    throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(entry)}`, entryPath(i));
  }
  const e = entry as unknown as LogEntry;
  const index = checkUintAt(e.index, i, 'index');
  const term = checkUintAt(e.term, i, 'term');
  const typeName = enumName(ENTRY_TYPES, e.type, i, 'type');
  checkEntry(index, term, e.type, e.command !== undefined, e.configuration !== undefined, i, prevLogIndex, previousTerm, messageTerm);
  budget.size += 3 * SCALAR_FIELD_BYTES;
  const command = e.command === undefined ? undefined : handleCommand(e.command, i, 'command', budget, commands);
  const configuration =
    e.configuration === undefined ? undefined : configurationToPayload(e.configuration, `${entryPath(i)}.configuration`, budget);
  const clientId = checkOptionalString(e.clientId, i, 'clientId', budget);
  const sequence = checkOptionalUint(e.sequence, i, 'sequence', budget);
  const firstOutstanding = checkOptionalUint(e.firstOutstandingSequence, i, 'firstOutstandingSequence', budget);
  return entryPayload(index, term, typeName, command, configuration, clientId, sequence, firstOutstanding);
}

/**
 * The proto3 JSON of an entry from its checked fields (defaults omitted),
 * the usual shapes built as one literal each so that their fields sit in the
 * object itself.
 * @internal
 */
export function entryPayload(
  index: number,
  term: number,
  typeName: string,
  command: JsonValue | undefined,
  configuration: MessagePayload | undefined,
  clientId: string,
  sequence: number,
  firstOutstanding: number,
): MessagePayload {
  if (command !== undefined && configuration === undefined && term !== 0 && clientId !== '' && sequence !== 0 && firstOutstanding === 0) {
    // The usual replicated proposal, built as one literal (fields in proto field order) so that they all sit in the object itself.
    return { index: String(index), term: String(term), type: typeName, command, clientId, sequence: String(sequence) };
  }
  if (command !== undefined && configuration === undefined && term !== 0 && clientId === '' && sequence === 0 && firstOutstanding === 0) {
    // A leader's own proposal (no session): one literal as well.
    return { index: String(index), term: String(term), type: typeName, command };
  }
  const p: MessagePayload = { index: String(index) };
  if (term !== 0) p.term = String(term);
  p.type = typeName;
  if (command !== undefined) p.command = command;
  if (configuration !== undefined) p.configuration = configuration;
  if (clientId !== '') p.clientId = clientId;
  if (sequence !== 0) p.sequence = String(sequence);
  if (firstOutstanding !== 0) p.firstOutstandingSequence = String(firstOutstanding);
  return p;
}

/** A Configuration as proto3 JSON, its addresses checked (empty lists omitted). @internal */
export function configurationToPayload(configuration: unknown, path: string, budget: WalkBudget): MessagePayload {
  if (!isPlainObject(configuration)) {
    throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(configuration)}`, path);
  }
  return fieldsToPayload(FIELDS.Configuration, configuration, path, budget, 'validate-copy');
}
