/**
 * Generates, from the `buf build` descriptors of proto/ (a FileDescriptorSet
 * with source info), the two files through which the proto drives the code:
 *
 * - `generated/webraft/v1/raft.core.ts`: the core's message types (Message,
 *   MessageBody, LogEntry, Configuration, every body, the enums as string
 *   unions), with the proto's doc comments;
 * - `generated/webraft/v1/raft.wire.ts`: the tables the codecs read (field
 *   names and numbers, which fields are 64-bit, the oneof body cases, enum
 *   names and numbers with their core spellings).
 *
 * Run by scripts/gen.sh: `tsx scripts/gen-wire.ts DESCRIPTORS.binpb OUTDIR`.
 *
 * The core's spelling of the schema follows these rules (and no list of fields):
 * - every case of `Message.body` is a body interface with a `type` tag that
 *   names its message; the envelope's other fields stay on `Message`;
 * - `Entry` is the core's `LogEntry`; its fields after the identity (index,
 *   term, type) are optional, since an entry omits what it does not carry and
 *   a stored entry written before a field existed lacks it;
 * - uint64 is `number` (the codecs keep values to 0..2^53-1), bytes
 *   `Uint8Array`, `google.protobuf.Value` is `JsonValue`, repeated is `T[]`;
 * - an enum value is spelled without its enum's prefix in lowerCamelCase
 *   (ENTRY_TYPE_COMMAND is 'command'); the UNSPECIFIED value 0 has no core spelling.
 * Any other field type stops the generation, so a proto change the codecs
 * cannot carry is noticed here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createFileRegistry,
  fromBinary,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

const PROTO_FILE = 'webraft/v1/raft.proto';
const TOP_LEVEL = 'webraft.v1.Message';
const BODY_ONEOF = 'body';
const VALUE_TYPE = 'google.protobuf.Value';
/** Core names that differ from the proto message name. */
const CORE_NAMES: Readonly<Record<string, string>> = { Entry: 'LogEntry' };
/** Messages whose fields after these are optional in the core (see the header). */
const REQUIRED_IN_CORE: Readonly<Record<string, readonly string[]>> = { Entry: ['index', 'term', 'type'] };

const [descriptorPath, outDir] = process.argv.slice(2);
if (descriptorPath === undefined || outDir === undefined) {
  console.error('usage: tsx scripts/gen-wire.ts DESCRIPTORS.binpb OUTDIR');
  process.exit(2);
}

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorPath)));
const file = registry.getFile(PROTO_FILE) ?? fail(`${PROTO_FILE} is not in ${descriptorPath}`);
const top = registry.getMessage(TOP_LEVEL) ?? fail(`no ${TOP_LEVEL}`);
const bodyOneof = top.oneofs.find((o) => o.name === BODY_ONEOF) ?? fail(`${TOP_LEVEL} has no oneof ${BODY_ONEOF}`);
const bodies = bodyOneof.fields.map((f) => f.message ?? fail(`body case ${f.name} is not a message`));
const envelope = top.fields.filter((f) => f.oneof === undefined);

function fail(message: string): never {
  throw new Error(`gen-wire: ${message}`);
}

/** Leading comments of the file's declarations, by source path. */
const comments = new Map<string, string>();
for (const location of file.proto.sourceCodeInfo?.location ?? []) {
  if (location.leadingComments !== '') comments.set(location.path.join('.'), location.leadingComments);
}

function sourcePath(desc: DescMessage | DescEnum | DescField): number[] {
  if (desc.kind === 'message') return [4, file.messages.indexOf(desc)];
  if (desc.kind === 'enum') return [5, file.enums.indexOf(desc)];
  const parent = desc.parent;
  return [4, file.messages.indexOf(parent), 2, parent.fields.indexOf(desc)];
}

/** The proto's doc comment of `desc` as a JSDoc block at `indent`, or ''. */
function doc(desc: DescMessage | DescEnum | DescField, indent = ''): string {
  const text = comments.get(sourcePath(desc).join('.'));
  if (text === undefined) return '';
  const lines = text.trimEnd().split('\n').map((line) => line.replace(/^ /, '').replace(/\*\//g, '* /'));
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} *${line === '' ? '' : ` ${line}`}`).join('\n')}\n${indent} */\n`;
}

const coreName = (message: DescMessage): string => CORE_NAMES[message.name] ?? message.name;

/** The core spelling of an enum value: without the enum's prefix, lowerCamelCase; undefined for 0. */
function coreLiteral(enumDesc: DescEnum, valueName: string, valueNumber: number): string | undefined {
  if (valueNumber === 0) return undefined;
  const prefix = `${enumDesc.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_`;
  if (!valueName.startsWith(prefix)) fail(`${valueName} does not start with ${prefix}`);
  const words = valueName.slice(prefix.length).toLowerCase().split('_');
  return words[0] + words.slice(1).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

type Kind = 'uint64' | 'bool' | 'string' | 'bytes' | 'enum' | 'message' | 'value';

function kindOf(field: DescField): Kind {
  const fieldKind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (fieldKind === 'enum') return 'enum';
  if (fieldKind === 'message') return field.message?.typeName === VALUE_TYPE ? 'value' : 'message';
  if (fieldKind !== 'scalar') fail(`${field.parent.name}.${field.name}: ${field.fieldKind} fields are not supported`);
  switch (field.scalar) {
    case ScalarType.UINT64:
      return 'uint64';
    case ScalarType.BOOL:
      return 'bool';
    case ScalarType.STRING:
      return 'string';
    case ScalarType.BYTES:
      return 'bytes';
    default:
      return fail(`${field.parent.name}.${field.name}: scalar type ${String(field.scalar)} is not supported`);
  }
}

function typeOf(field: DescField): string {
  const kind = kindOf(field);
  const element =
    kind === 'uint64' ? 'number'
    : kind === 'bool' ? 'boolean'
    : kind === 'string' ? 'string'
    : kind === 'bytes' ? 'Uint8Array'
    : kind === 'value' ? 'JsonValue'
    : kind === 'enum' ? (field.enum as DescEnum).name
    : coreName(field.message as DescMessage);
  return field.fieldKind === 'list' ? `${element}[]` : element;
}

/** Messages reachable from the bodies, besides the bodies themselves. */
const nested: DescMessage[] = [];
const enums: DescEnum[] = [];
function collect(message: DescMessage): void {
  for (const field of message.fields) {
    if (field.enum !== undefined && !enums.includes(field.enum)) enums.push(field.enum);
    const sub = field.message;
    if (sub === undefined || sub.typeName === VALUE_TYPE || bodies.includes(sub) || nested.includes(sub)) continue;
    nested.push(sub);
    collect(sub);
  }
}
bodies.forEach(collect);
nested.sort((a, b) => file.messages.indexOf(a) - file.messages.indexOf(b));
enums.sort((a, b) => file.enums.indexOf(a) - file.enums.indexOf(b));

const header = (what: string): string =>
  `// Code generated by scripts/gen-wire.ts from proto/${PROTO_FILE} (buf build descriptors). DO NOT EDIT.\n` +
  `// ${what}\n// Regenerate with \`npm run gen\`; \`npm run check:gen\` fails when this file is stale.\n\n`;

function coreTypes(): string {
  let out = header('The core\'s message types: the proto as plain objects with number fields.');
  out += '/** Any value that survives `JSON.parse(JSON.stringify(value))` unchanged: the form of `google.protobuf.Value`. */\n';
  out += 'export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };\n\n';
  for (const e of enums) {
    const literals = e.values.map((v) => coreLiteral(e, v.name, v.number)).filter((l) => l !== undefined);
    out += doc(e) + `export type ${e.name} = ${literals.map((l) => `'${l}'`).join(' | ')};\n\n`;
  }
  const fieldLines = (message: DescMessage, optionalAfter?: readonly string[]): string =>
    message.fields
      .map((f) => {
        if (f.jsonName === 'type' && bodies.includes(message)) fail(`${message.name}.type clashes with the body tag`);
        const optional = optionalAfter !== undefined && !optionalAfter.includes(f.jsonName) ? '?' : '';
        return `${doc(f, '  ')}  ${f.jsonName}${optional}: ${typeOf(f)};\n`;
      })
      .join('');
  for (const message of nested) {
    out += doc(message) + `export interface ${coreName(message)} {\n${fieldLines(message, REQUIRED_IN_CORE[message.name])}}\n\n`;
  }
  for (const body of bodies) {
    out += doc(body) + `export interface ${coreName(body)} {\n  type: '${body.name}';\n${fieldLines(body)}}\n\n`;
  }
  out += `/** The ${BODY_ONEOF} of a Message: exactly one of the requests and responses. */\n`;
  out += `export type MessageBody =\n${bodies.map((b) => `  | ${coreName(b)}`).join('\n')};\n\n`;
  out += "/** The tag of each body: its message's name. */\nexport type MessageType = MessageBody['type'];\n\n";
  out += doc(top) + `export interface ${top.name} {\n`;
  for (const f of envelope) out += `${doc(f, '  ')}  ${f.jsonName}: ${typeOf(f)};\n`;
  out += `  /** The request or response carried by this message (the proto's oneof \`${BODY_ONEOF}\`). */\n  ${BODY_ONEOF}: MessageBody;\n}\n`;
  return out;
}

function fieldTable(message: DescMessage, fields: readonly DescField[]): string {
  const rows = fields.map((f) => {
    const kind = kindOf(f);
    const type = kind === 'enum' ? `, type: '${(f.enum as DescEnum).name}'` : kind === 'message' ? `, type: '${(f.message as DescMessage).name}'` : '';
    return `    { name: '${f.jsonName}', protoName: '${f.name}', number: ${f.number}, kind: '${kind}', repeated: ${f.fieldKind === 'list'}${type} },\n`;
  });
  return `  ${message.name}: [\n${rows.join('')}  ],\n`;
}

function wireTables(): string {
  let out = header('The wire tables the codecs read: field names and numbers, kinds, oneof body cases, enums.');
  out += `/**
 * How a field is carried. \`uint64\` fields are the 64-bit ones: decimal
 * strings in proto3 JSON, varints in binary, safe-integer numbers in the core.
 * \`value\` is a \`google.protobuf.Value\` (JSON in proto3 JSON); \`message\` and
 * \`enum\` name their type in \`type\`.
 */
export type WireFieldKind = 'uint64' | 'bool' | 'string' | 'bytes' | 'enum' | 'message' | 'value';

/** One field of a message, in field-number order within its table. */
export interface WireField {
  /** lowerCamelCase JSON name, also the core's field name. */
  readonly name: string;
  /** The proto (snake_case) name, which proto3 JSON parsers accept too. */
  readonly protoName: string;
  readonly number: number;
  readonly kind: WireFieldKind;
  readonly repeated: boolean;
  /** The message or enum name for kind \`message\` or \`enum\`. */
  readonly type?: string;
}

/** The fields of each message (for \`${top.name}\`, the envelope's fields besides the body). */
export const WIRE_FIELDS = {\n`;
  out += fieldTable(top, envelope);
  for (const message of [...nested, ...bodies]) out += fieldTable(message, message.fields);
  out += '} as const satisfies Record<string, readonly WireField[]>;\n\n';
  out += "/** A message with a field table. */\nexport type WireMessageName = keyof typeof WIRE_FIELDS;\n\n";
  out += '/** The field numbers of each message by JSON name (the envelope\'s include the body cases). */\nexport const FIELD_NUMBERS = {\n';
  for (const message of [top, ...nested, ...bodies]) {
    const numbers = message.fields.map((f) => `${f.jsonName}: ${f.number}`);
    out += `  ${message.name}: {${numbers.length === 0 ? '' : ` ${numbers.join(', ')} `}},\n`;
  }
  out += '} as const;\n\n';
  out += `/** The cases of \`${top.name}.${BODY_ONEOF}\` in field-number order: the core's body tag, JSON and proto names, field number. */\n`;
  out += 'export const BODY_CASES = [\n';
  for (const f of bodyOneof.fields) {
    out += `  { type: '${(f.message as DescMessage).name}', name: '${f.jsonName}', protoName: '${f.name}', number: ${f.number} },\n`;
  }
  out += '] as const;\n\n';
  out += '/** Each enum\'s values: proto name, number, and core spelling (none for the UNSPECIFIED value 0). */\n';
  out += 'export const ENUM_VALUES = {\n';
  for (const e of enums) {
    out += `  ${e.name}: [\n`;
    for (const v of e.values) {
      const literal = coreLiteral(e, v.name, v.number);
      out += `    { name: '${v.name}', number: ${v.number}${literal === undefined ? '' : `, core: '${literal}'`} },\n`;
    }
    out += '  ],\n';
  }
  out += '} as const;\n';
  return out;
}

const dir = join(outDir, 'webraft/v1');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'raft.core.ts'), coreTypes());
writeFileSync(join(dir, 'raft.wire.ts'), wireTables());
