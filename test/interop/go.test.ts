/**
 * protobuf-go (through `buf convert`) against the golden vectors and the
 * product codec. All vectors travel in one buf call per direction inside a
 * wrapper `Batch { repeated webraft.v1.Message messages = 1; }`; a few
 * vectors also go through top-level `webraft.v1.Message` conversions.
 *
 * Checked directions:
 * - TS binary -> Go JSON: equals the TS JSON payload (canonical JSON on both
 *   sides, compared after JSON.parse and schema normalisation).
 * - TS JSON -> Go binary -> TS decode: equals the TS JSON payload.
 * - Go binary byte-equals TS binary when every command object lists its keys
 *   in sorted order; protobuf-go sorts Struct map keys, TS keeps insertion
 *   order, so for the others only the decoded forms are compared. (Also:
 *   ts-proto omits an empty-string map key inside a Struct entry, protobuf-go
 *   writes it; both are valid encodings of the same message.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufStatus, startGoPeer, type GoPeer } from '../../scripts/interop/peers.js';
import { canonicalize, referencePayload } from '../../scripts/interop/reference.js';
import { decodeGenerated, loadProduct, loadVectors, type Vector } from './harness.js';

const vectors = loadVectors();
const product = await loadProduct();
const binary = product; // webraft/binary encode/decode
const buf = bufStatus();
if (!buf.ok) console.warn(`[interop] protobuf-go checks skipped: ${buf.reason}`);

it('buf (protobuf-go) is available (required under CI)', () => {
  if (process.env.CI === 'true') expect(buf.ok, buf.reason).toBe(true);
  else if (!buf.ok) console.warn(`[interop] ${buf.reason}`);
});

describe.skipIf(!buf.ok)('protobuf-go via buf convert', () => {
  let go: GoPeer;
  let goJsonFromTsBinary: unknown[];
  let goBinaryFromTsJson: Buffer[];
  let goJsonFromProductBinary: unknown[] | undefined;
  let productBinaries: (Uint8Array | null)[] = [];
  const started = Date.now();

  beforeAll(async () => {
    go = await startGoPeer();
    if (binary) {
      productBinaries = vectors.map((v) => {
        try {
          return binary.encode(structuredClone(v.json));
        } catch {
          return null; // reported by vectors.test.ts
        }
      });
    }
    const okProduct = productBinaries.filter((b): b is Uint8Array => b !== null);
    const [a, b, c] = await Promise.all([
      go.binaryToJson(vectors.map((v) => v.binary)),
      go.jsonToBinary(vectors.map((v) => v.json)),
      okProduct.length ? go.binaryToJson(okProduct) : Promise.resolve(undefined),
    ]);
    goJsonFromTsBinary = a;
    goBinaryFromTsJson = b;
    if (c) {
      let k = 0;
      goJsonFromProductBinary = productBinaries.map((bin) => (bin ? c[k++] : undefined));
    }
  });

  afterAll(() => {
    console.log(`[interop] protobuf-go: ${go?.calls ?? 0} buf convert calls, ${Date.now() - started} ms`);
    go?.close();
  });

  it('returns one message per vector', () => {
    expect(goJsonFromTsBinary).toHaveLength(vectors.length);
    expect(goBinaryFromTsJson).toHaveLength(vectors.length);
  });

  describe.each(vectors.map((v, i) => [v.name, v, i] as [string, Vector, number]))('%s', (_name, v, i) => {
    it('TS binary -> Go JSON equals the TS JSON payload', () => {
      expect(goJsonFromTsBinary[i]).toEqual(v.json); // both canonical: same keys, 64-bit strings, enum names
      expect(canonicalize(goJsonFromTsBinary[i])).toEqual(v.json);
    });
    it("product fromPayload accepts Go's JSON as the original message", () => {
      const res = product.fromPayload(structuredClone(goJsonFromTsBinary[i]));
      if (!res.ok) return expect(v.productMayReject, res.error.message).toBe(true);
      expect(referencePayload(res.message)).toEqual(v.json);
    });
    it('TS JSON -> Go binary decodes in TS to the TS JSON payload', () => {
      expect(decodeGenerated(goBinaryFromTsJson[i]!)).toEqual(v.json);
      if (binary && !v.productMayReject) {
        expect(JSON.parse(JSON.stringify(binary.decode(goBinaryFromTsJson[i]!)))).toEqual(v.json);
      }
    });
    it(v.sortedKeys ? 'Go binary byte-equals TS binary' : 'Go binary equals TS binary after decoding (Struct keys not sorted)', () => {
      if (v.sortedKeys) expect(goBinaryFromTsJson[i]!.toString('hex')).toBe(v.binary.toString('hex'));
      else {
        expect(decodeGenerated(goBinaryFromTsJson[i]!)).toEqual(decodeGenerated(v.binary));
      }
    });
    it.skipIf(!binary)('product encode(JSON) -> Go JSON equals the TS JSON payload', () => {
      if (!productBinaries[i]) return expect(v.productMayReject).toBe(true);
      expect(goJsonFromProductBinary![i]).toEqual(v.json);
    });
  });

  it('top-level webraft.v1.Message conversions agree with the batched ones', async () => {
    const picks = ['append-entries-all-entry-types', 'install-snapshot-request', 'timeout-now-request'];
    await Promise.all(
      picks.map(async (name) => {
        const i = vectors.findIndex((v) => v.name === name);
        const v = vectors[i]!;
        const json = JSON.parse((await go.convertTopLevel(v.binary, 'binpb', 'json')).toString('utf8'));
        expect(json).toEqual(v.json);
        const bin = await go.convertTopLevel(Buffer.from(JSON.stringify(v.json)), 'json', 'binpb');
        expect(bin.equals(goBinaryFromTsJson[i]!)).toBe(true);
      }),
    );
  });
});
