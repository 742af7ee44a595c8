/**
 * Golden vectors (test/vectors): they are exactly what make-vectors.ts
 * generates, cover every body type and the edge cases, decode with the
 * generated code to their JSON twin, and the product codec (src/wire +
 * webraft/binary) reproduces them.
 */
import { describe, expect, it } from 'vitest';
import * as gen from '../../generated/webraft/v1/raft.js';
import { buildVectorFiles, staleVectorFiles } from '../../scripts/interop/make-vectors.js';
import { alternatePayload, canonicalize, messageType, referencePayload } from '../../scripts/interop/reference.js';
import { WireError } from '../../src/wire/index.js';
import { decodeGenerated, loadProduct, loadVectors } from './harness.js';

const vectors = loadVectors();
const product = await loadProduct();
const binary = product; // webraft/binary encode/decode

describe('golden vectors', () => {
  it('are unchanged: a fresh generation equals the committed files', () => {
    expect(staleVectorFiles()).toEqual([]);
    const files = buildVectorFiles();
    expect(files.size).toBe(vectors.length * 2);
  });

  it('cover every body of the Message oneof', () => {
    const bodies = messageType().oneofs.body!.fieldsArray.map((f) => f.name).sort();
    expect(bodies).toHaveLength(13);
    const covered = new Set(vectors.flatMap((v) => Object.keys(v.json).filter((k) => bodies.includes(k))));
    expect([...covered].sort()).toEqual(bodies);
  });

  it('cover the edge cases', () => {
    const all = vectors.map((v) => JSON.stringify(v.json)).join('\n');
    expect(all).toContain('"9007199254740991"'); // 2^53-1 as a 64-bit string
    expect(all).toContain('ñ日本🙂');
    for (const t of ['ENTRY_TYPE_COMMAND', 'ENTRY_TYPE_NOOP', 'ENTRY_TYPE_CONFIGURATION']) expect(all).toContain(t);
    for (const t of ['MEMBERSHIP_CHANGE_TYPE_ADD_VOTER', 'MEMBERSHIP_CHANGE_TYPE_REMOVE']) expect(all).toContain(t);
    expect(Math.max(...vectors.map((v) => v.binary.length))).toBeGreaterThan(256 * 1024);
    expect(vectors.some((v) => v.binary.length <= 3)).toBe(true); // an all-defaults message
    expect(vectors.some((v) => !v.sortedKeys)).toBe(true); // exercises Struct map ordering
  });

  describe.each(vectors)('$name', (v) => {
    it('JSON is already canonical (64-bit as strings, enum names, defaults omitted)', () => {
      expect(canonicalize(v.json)).toEqual(v.json);
    });
    it('binary decodes (ts-proto) to the JSON payload and re-encodes to the same bytes', () => {
      expect(decodeGenerated(v.binary)).toEqual(v.json);
      expect(Buffer.from(gen.Message.encode(gen.Message.decode(v.binary)).finish()).equals(v.binary)).toBe(true);
    });
    it('the core fixture maps to the JSON payload (reference mapping)', () => {
      expect(referencePayload(v.message)).toEqual(v.json);
    });
  });
});

describe('product codec (src/wire, webraft/binary) against the golden vectors', () => {
  describe.each(vectors)('$name', (v) => {
    const p = product;
    it('toPayload(core) equals the golden JSON', () => {
      let payload: unknown;
      try {
        payload = p.toPayload(v.message);
      } catch (e) {
        if (v.productMayReject) return expect(e).toBeInstanceOf(WireError);
        throw e;
      }
      expect(JSON.parse(JSON.stringify(payload))).toEqual(v.json);
    });
    it('fromPayload(golden JSON) and fromPayload(snake_case/number spelling) give the same message', () => {
      for (const input of [v.json, alternatePayload(v.json)]) {
        const r = p.fromPayload(structuredClone(input));
        if (!r.ok) {
          expect(v.productMayReject, `${r.error.message}`).toBe(true);
          continue;
        }
        expect(canonicalize(referencePayload(r.message))).toEqual(v.json);
      }
    });
    it.skipIf(!binary)('decode(golden binary) equals the golden JSON', () => {
      let decoded: unknown;
      try {
        decoded = binary!.decode(v.binary);
      } catch (e) {
        if (v.productMayReject) return expect(e).toBeInstanceOf(WireError);
        throw e;
      }
      expect(JSON.parse(JSON.stringify(decoded))).toEqual(v.json);
    });
    it.skipIf(!binary)('encode(golden JSON) equals the golden binary (bytes, or decoded when Struct key order differs)', () => {
      let bytes: Uint8Array;
      try {
        bytes = binary!.encode(structuredClone(v.json));
      } catch (e) {
        if (v.productMayReject) return expect(e).toBeInstanceOf(WireError);
        throw e;
      }
      if (v.sortedKeys) expect(Buffer.from(bytes).toString('hex')).toBe(v.binary.toString('hex'));
      else expect(decodeGenerated(bytes)).toEqual(v.json);
    });
  });
});
