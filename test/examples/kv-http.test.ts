/**
 * The kv example's HTTP API in-process, on a single-node cluster (it elects
 * itself and needs no peers): the status codes a client relies on.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKvHttpHandler, KvRaft } from '../../examples/kv-demo/kv.js';
import { waitFor } from '../adversarial/tcp-harness.js';

let raft: KvRaft;
let server: Server;
let base: string;
beforeAll(async () => {
  raft = new KvRaft('127.0.0.1:1', { peers: ['127.0.0.1:1'] }, null);
  await waitFor(() => raft.isLeader, 5000, 'the single node leads');
  server = createServer(createKvHttpHandler(raft));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  raft.end();
  await new Promise((resolve) => server.close(resolve));
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(base + path, { method, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('kv example HTTP API', () => {
  it('PUT then GET a key with escapes round-trips; a missing key is 404', async () => {
    const put = await call('PUT', `/kv/${encodeURIComponent('a/b ü?')}`, 'value-1');
    expect(put.status).toBe(200);
    expect(put.json.index).toBeGreaterThan(0);
    expect(await call('GET', `/kv/${encodeURIComponent('a/b ü?')}`)).toEqual({ status: 200, json: { key: 'a/b ü?', value: 'value-1' } });
    expect((await call('GET', '/kv/missing')).status).toBe(404);
  });

  it('a malformed percent-escape in the key is 400 BAD_REQUEST (was 503), for every method, and changes nothing', async () => {
    const before = raft.status().lastIndex;
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const result = await call(method, '/kv/%E0%A4%A', method === 'PUT' ? 'x' : undefined);
      expect(result.status, method).toBe(400);
      expect(result.json.code).toBe('BAD_REQUEST');
      expect(String(result.json.message)).toContain('percent-escape');
    }
    expect((await call('GET', '/kv/%zz')).status).toBe(400);
    expect(raft.status().lastIndex).toBe(before);
  });

  it('other errors keep their codes: 404 for an unknown path, 405 for a method, 413 for a body over the limit', async () => {
    expect((await call('GET', '/nope')).status).toBe(404);
    expect((await call('POST', '/kv/x', 'y')).status).toBe(405);
    const big = await call('PUT', '/kv/big', 'x'.repeat((1 << 20) + 1));
    expect(big).toMatchObject({ status: 413, json: { code: 'TOO_LARGE' } });
  });

  it('an error from Raft is 503 with its code', async () => {
    const ended = new KvRaft('127.0.0.1:2', { peers: ['127.0.0.1:2'] }, null);
    ended.end();
    const handler = createKvHttpHandler(ended);
    const other = createServer(handler);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const response = await fetch(`http://127.0.0.1:${(other.address() as { port: number }).port}/kv/k`, { method: 'PUT', body: 'v' });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { code: string }).code).toBe('ENDED');
    await new Promise((resolve) => other.close(resolve));
  });
});

describe('kv example snapshots', () => {
  it('createSnapshot is a flat [key, value, ...] array that refresh restores, as it does the object form of earlier versions', async () => {
    const source = new KvRaft('127.0.0.1:3', { peers: ['127.0.0.1:3'] }, null);
    await waitFor(() => source.isLeader, 5000, 'the single node leads');
    for (const [k, v] of [['b', '2'], ['a', '1'], ['c', '3']]) await source.propose({ op: 'set', key: k, value: v });
    const flat = source.createSnapshot();
    expect(flat).toEqual(['b', '2', 'a', '1', 'c', '3']);
    source.end();
    const restored = new KvRaft('127.0.0.1:4', { peers: [] }, null);
    restored.emit('refresh', { index: 3, term: 1, data: flat }, () => {});
    expect([...restored.map]).toEqual([['b', '2'], ['a', '1'], ['c', '3']]);
    restored.emit('refresh', { index: 3, term: 1, data: { x: '9' } }, () => {});
    expect([...restored.map]).toEqual([['x', '9']]);
    restored.end();
  });
});
