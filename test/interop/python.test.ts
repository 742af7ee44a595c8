/**
 * Python's google.protobuf (/usr/bin/python3, module generated at test time by
 * protoc into a temp dir) against the golden vectors, through one
 * scripts/interop/python_peer.py process for the whole batch.
 *
 * Python side, per vector: parse the TS binary, re-encode deterministically
 * (byte-equal to TS when Struct keys are sorted), json_format.Parse the TS JSON
 * (must equal the binary-decoded message), emit MessageToJson / MessageToDict
 * and its own binary.
 * TS side: Python's JSON and dict equal the TS payload, are accepted by the
 * product's fromPayload as the same message, and Python's binary decodes in TS
 * to the TS payload.
 *
 * Without protoc / python3-protobuf the suite is skipped with a warning, but
 * under CI=true the availability test fails instead.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonStatus, runPythonPeer, type PythonResult } from '../../scripts/interop/peers.js';
import { canonicalize, referencePayload } from '../../scripts/interop/reference.js';
import { decodeGenerated, loadProduct, loadVectors, type Vector } from './harness.js';

const vectors = loadVectors();
const product = await loadProduct();
const binary = product; // webraft/binary encode/decode
const tools = pythonStatus();
if (!tools.ok) console.warn(`[interop] Python (google.protobuf) checks skipped: ${tools.reason}`);

it('protoc and /usr/bin/python3 with google.protobuf are available (required under CI)', () => {
  if (process.env.CI === 'true') expect(tools.ok, `CI=true: ${tools.reason}`).toBe(true);
  else if (!tools.ok) console.warn(`[interop] ${tools.reason}`);
});

describe.skipIf(!tools.ok)('python google.protobuf peer', () => {
  const results = new Map<string, PythonResult>();

  beforeAll(async () => {
    const started = Date.now();
    const items = vectors.map((v) => ({ name: v.name, binary: v.binary as Uint8Array, json: v.json as unknown }));
    // The product's own binary (encode of the golden JSON), paired with the golden JSON.
    for (const v of binary ? vectors : []) {
      try {
        items.push({ name: `product:${v.name}`, binary: binary!.encode(structuredClone(v.json)), json: v.json });
      } catch {
        // a refusal is reported by vectors.test.ts
      }
    }
    const out = await runPythonPeer(items);
    for (const r of out) results.set(String(r.name), r);
    console.log(`[interop] python peer: ${out.length} vectors in one process, ${Date.now() - started} ms`);
  });

  it('answers every vector', () => {
    expect([...results.keys()].filter((k) => !k.startsWith('product:')).sort()).toEqual(vectors.map((v) => v.name).sort());
  });

  describe.each(vectors.map((v) => [v.name, v] as [string, Vector]))('%s', (name, v) => {
    const r = () => {
      const res = results.get(name)!;
      expect(res.errors).toEqual([]);
      return res;
    };
    it('Python parses the TS binary and the TS JSON to equal messages', () => {
      expect(r().json_equals_binary).toBe(true);
    });
    it(v.sortedKeys ? 'Python re-encodes the TS binary byte for byte' : 'Python re-encodes the TS binary (bytes differ: Struct keys not sorted)', () => {
      expect(r().reencoded_equal).toBe(v.sortedKeys);
    });
    it('Python MessageToJson / MessageToDict equal the TS payload', () => {
      const fromJson = JSON.parse(r().json!) as unknown;
      expect(canonicalize(fromJson)).toEqual(v.json);
      expect(canonicalize(r().dict)).toEqual(v.json);
      expect(canonicalize(JSON.parse(r().json_snake!))).toEqual(v.json);
      expect(r().json_snake).not.toEqual(r().json); // really the snake_case spelling (every vector has a multi-word body name)
    });
    it("Python's binary (from the TS JSON) decodes in TS to the TS payload", () => {
      const bin = Buffer.from(r().binary!, 'base64');
      expect(decodeGenerated(bin)).toEqual(v.json);
      if (v.sortedKeys) expect(bin.toString('hex')).toBe(v.binary.toString('hex'));
      if (binary && !v.productMayReject) expect(JSON.parse(JSON.stringify(binary.decode(bin)))).toEqual(v.json);
    });
    it("product fromPayload accepts Python's MessageToJson as the original message", () => {
      const res = product.fromPayload(JSON.parse(r().json!));
      if (!res.ok) return expect(v.productMayReject, res.error.message).toBe(true);
      expect(canonicalize(referencePayload(res.message))).toEqual(v.json);
      expect(referencePayload(res.message)).toEqual(referencePayload(v.message));
      const snake = product.fromPayload(JSON.parse(r().json_snake!));
      expect(snake.ok && canonicalize(referencePayload(snake.message))).toEqual(v.json);
    });
    it.skipIf(!binary)('Python parses the product binary (encode of the TS payload) to the TS payload', () => {
      const res = results.get(`product:${name}`);
      if (!res) return expect(v.productMayReject).toBe(true);
      expect(res.errors).toEqual([]);
      expect(res.json_equals_binary).toBe(true);
      expect(canonicalize(JSON.parse(res.json!))).toEqual(v.json);
    });
  });
});
