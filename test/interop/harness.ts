/**
 * Shared pieces of the interop tests: the golden vectors as committed, the
 * TS-side decoder used to read foreign binaries, and the product codec
 * (src/wire + webraft/binary).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as gen from '../../generated/webraft/v1/raft.js';
import type { Message } from '../../src/core/types.js';
import { fromPayload, toPayload } from '../../src/wire/index.js';
import { decode, encode } from 'webraft/binary';
import { fixtures, type Fixture } from '../../scripts/interop/fixtures.js';
import { vectorsDir } from '../../scripts/interop/make-vectors.js';
import { canonicalize, commandsOf, objectKeysSorted, type Payload } from '../../scripts/interop/reference.js';

export interface Vector extends Fixture {
  json: Payload;
  binary: Buffer;
  /** Every command object lists its keys in UTF-8 byte order (so deterministic foreign encoders must match bytes). */
  sortedKeys: boolean;
}

export function loadVectors(): Vector[] {
  return fixtures.map((f) => {
    const json = JSON.parse(readFileSync(join(vectorsDir, `${f.name}.json`), 'utf8')) as Payload;
    return {
      ...f,
      json,
      binary: readFileSync(join(vectorsDir, `${f.name}.binpb`)),
      sortedKeys: commandsOf(json).every(objectKeysSorted),
    };
  });
}

/** Decodes protobuf binary with the ts-proto generated code into canonical JSON form. */
export function decodeGenerated(bytes: Uint8Array): Payload {
  return canonicalize(gen.Message.toJSON(gen.Message.decode(bytes)));
}

// --- the product codec -------------------------------------------------------

export interface ProductCodec {
  toPayload(message: Message): unknown;
  fromPayload(payload: unknown): { ok: true; message: Message } | { ok: false; error: Error };
  encode: (payload: object) => Uint8Array;
  decode: (bytes: Uint8Array) => unknown;
}

/** The product codec: src/wire's toPayload/fromPayload and webraft/binary's encode/decode. */
export async function loadProduct(): Promise<ProductCodec> {
  return { toPayload, fromPayload, encode, decode };
}
