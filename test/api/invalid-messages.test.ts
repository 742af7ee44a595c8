/** Rejected payloads: 'invalid message', nothing changes, gotData never throws; no prototype pollution. */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from 'webraft';
import { cluster, sleep, TestNet, TestRaft, waitFor, waitLeader } from './helpers.js';

/** Node 'b' of cluster a,b,c with peers absent and a long heartbeatTimeout: nothing moves by itself. */
function quietNode(): TestRaft {
  const net = new TestNet();
  return new TestRaft('b', net, { peers: ['a', 'b', 'c'], storage: new MemoryStorage() }, { heartbeatTimeout: 60_000, electionTimeout: 60_000 });
}

/** Waits until the node finished starting: bootstrap entry saved, committed and applied. */
async function settled(n: TestRaft): Promise<void> {
  await waitFor(() => {
    const s = n.status();
    return s.lastIndex >= 1 && s.lastApplied === s.commitIndex && s.commitIndex === s.lastIndex;
  });
  await sleep(10);
}

const heartbeat = (over: Record<string, unknown> = {}, body: Record<string, unknown> = {}) => ({
  from: 'a',
  to: 'b',
  term: '5',
  appendEntriesRequest: { prevLogIndex: '1', prevLogTerm: '1', leaderCommit: '1', ...body },
  ...over,
});

const big = 'x'.repeat(1024 * 1024 + 10);

const cases: [string, unknown, RegExp][] = [
  ['null', null, /object|null/i],
  ['undefined', undefined, /object|undefined/i],
  ['a number', 42, /object|number/i],
  ['an array', [heartbeat()], /object|array/i],
  ['a JSON string instead of an object', JSON.stringify(heartbeat()), /object|string/i],
  ['no body', { from: 'a', to: 'b', term: '5' }, /body/i],
  ['two bodies', { ...heartbeat(), requestVoteResponse: { voteGranted: true } }, /body|more than one/i],
  ['body of the wrong type', heartbeat({ appendEntriesRequest: 'nope' }), /appendEntriesRequest|object/i],
  ['term of the wrong type (boolean)', heartbeat({ term: true }), /term/i],
  ['term of the wrong type (object)', heartbeat({ term: { n: 1 } }), /term/i],
  ['negative term', heartbeat({ term: -1 }), /term/i],
  ['negative term as string', heartbeat({ term: '-1' }), /term/i],
  ['fractional term', heartbeat({ term: 1.5 }), /term/i],
  ['NaN term', heartbeat({ term: NaN }), /term/i],
  ['Infinity term', heartbeat({ term: Infinity }), /term/i],
  ['oversized term (2^64)', heartbeat({ term: '18446744073709551616' }), /term/i],
  ['term beyond 2^53', heartbeat({ term: 2 ** 60 }), /term/i],
  ['fractional prevLogIndex', heartbeat({}, { prevLogIndex: 0.5 }), /prevLogIndex/i],
  ['negative leaderCommit', heartbeat({}, { leaderCommit: -3 }), /leaderCommit/i],
  ['entries not an array', heartbeat({}, { entries: 'x' }), /entries/i],
  ['from of the wrong type', heartbeat({ from: 7 }), /from/i],
  ['to missing', heartbeat({ to: undefined }), /to/i],
  ['claimed sender other than the arriving address', heartbeat({ from: 'c' }), /from|sender|claim/i],
  ['oversized string (command)', { from: 'a', to: 'b', term: '5', proposeRequest: { clientId: 'k', sequence: '1', command: big } }, /string|long|large|size|limit/i],
  ['oversized string (address)', heartbeat({ to: big }), /string|long|large|size|limit|to/i],
];

describe('invalid messages', () => {
  let node: TestRaft | undefined;
  afterEach(() => node?.end());

  for (const [name, payload, pattern] of cases) {
    for (const via of ['raft.gotData', 'instance.gotData'] as const) {
      it(`${name} (${via})`, async () => {
        node = quietNode();
        await settled(node!);
        const events: [string, Error][] = [];
        node.listen('invalid message', (from: string, error: Error) => {
          events.push([from, error]);
        });
        const before = JSON.stringify(node.status());
        expect(() => {
          if (via === 'raft.gotData') node!.gotData('a', payload);
          else {
            const inst = node!.created.find((i) => i.address === 'a') ?? (node!.createInstance('a') as never);
            (inst as { gotData(p: unknown): void }).gotData(payload);
          }
        }).not.toThrow();
        expect(events.length).toBe(1);
        const [from, error] = events[0];
        expect(from).toBe('a');
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toMatch(pattern);
        await sleep(5);
        expect(JSON.stringify(node.status())).toBe(before);
      });
    }
  }

  it('an arriving address that is not a non-empty string is rejected (the sender cannot be checked)', async () => {
    node = quietNode();
    await settled(node!);
    const events: unknown[] = [];
    node.listen('invalid message', (from: unknown, error: Error) => {
      expect(error).toBeInstanceOf(Error);
      expect(error.message.length).toBeGreaterThan(0);
      events.push(from);
    });
    const before = JSON.stringify(node.status());
    for (const from of [undefined, null, 5, '', {}]) expect(() => node!.gotData(from as never, heartbeat())).not.toThrow();
    await sleep(5);
    expect(events.length).toBe(5);
    expect(JSON.stringify(node.status())).toBe(before);
  });

  it('an invalid payload from an unknown address creates no instance', async () => {
    node = quietNode();
    await settled(node!);
    node.listen('invalid message', () => {});
    const before = node.created.length;
    node.gotData('zz', heartbeat({ from: 'zz', term: -1 }));
    await sleep(5);
    expect(node.created.length).toBe(before);
  });

  it('control: the valid heartbeat does change the node (so the cases above were not no-ops anyway)', async () => {
    node = quietNode();
    await settled(node!);
    let invalid = 0;
    node.listen('invalid message', () => invalid++);
    node.gotData('a', heartbeat());
    await waitFor(() => node!.currentTerm === 5 && node!.leaderID === 'a');
    expect(invalid).toBe(0);
  });

  it('unknown keys are ignored; __proto__/constructor keys in a payload pollute nothing', async () => {
    node = quietNode();
    await settled(node!);
    const text = `{"from":"a","to":"b","term":"5","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted2":1}},"unknownKey":3,
      "appendEntriesRequest":{"prevLogIndex":"1","prevLogTerm":"1","leaderCommit":"1","__proto__":{"polluted3":1},
      "entries":[{"index":"2","term":"5","type":"ENTRY_TYPE_COMMAND","command":{"__proto__":{"polluted4":1},"constructor":{"prototype":{"polluted5":1}}}}]}}`;
    expect(() => node!.gotData('a', JSON.parse(text))).not.toThrow();
    await sleep(10);
    const probe = {} as Record<string, unknown>;
    for (const k of ['polluted', 'polluted2', 'polluted3', 'polluted4', 'polluted5']) expect(probe[k]).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted4).toBeUndefined();
  });
});

describe('prototype-named keys in commands', () => {
  it('arrive as plain own data in apply on every node', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const follower = c.nodes.find((n) => n !== leader)!;
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted2":true}},"prototype":1,"toString":"s","hasOwnProperty":2}';
    const got: unknown[] = [];
    for (const n of c.nodes) n.listen('apply', (e) => void got.push(e.command));
    await follower.propose(JSON.parse(text));
    await waitFor(() => got.length === 3);
    for (const cmd of got) {
      expect(Object.getPrototypeOf(cmd)).toBe(Object.prototype);
      expect(Object.keys(cmd as object)).toEqual(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']);
      expect(JSON.stringify(cmd)).toBe(text);
      expect((cmd as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
    c.end();
  });
});

describe('a sender it must answer', () => {
  it('gets one instance, created on demand', async () => {
    const node = quietNode();
    await settled(node);
    const vote = { from: 'zz', to: 'b', term: '1', requestVoteRequest: { lastLogIndex: '0', lastLogTerm: '0' } };
    node.gotData('zz', vote);
    node.gotData('zz', vote);
    await waitFor(() => node.created.some((i) => i.address === 'zz'), 1000).catch(() => {});
    expect(node.created.filter((i) => i.address === 'zz').length).toBeLessThanOrEqual(1);
    node.end();
  });
});
