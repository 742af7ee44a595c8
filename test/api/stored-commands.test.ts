/**
 * A node copies its log into AppendEntries without checking the commands
 * again, because each was checked when it entered the node. Commands loaded
 * from storage are checked at start, so a custom Storage that returns
 * something the wire cannot carry stops the node with STORAGE_CORRUPT.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, type StoredState } from 'webraft';
import { TestNet, TestRaft, waitFor } from './helpers.js';

/** A storage returning what `inner` holds, with the command of its last command entry replaced. */
class CorruptingStorage extends MemoryStorage {
  constructor(private readonly badCommand: unknown) {
    super();
  }
  override async load(): Promise<StoredState> {
    const stored = await super.load();
    const last = stored.entries.filter((e) => e.type === 'command').at(-1);
    if (last) (last as { command: unknown }).command = this.badCommand;
    return stored;
  }
}

describe('commands loaded from storage', () => {
  for (const [what, bad] of [
    ['a lone surrogate', { text: 'x\uD800' }],
    ['a non-finite number', { n: Number.NaN }],
    ['a function', { f: () => 1 }],
  ] as const) {
    it(`${what} in a stored command fails the start with STORAGE_CORRUPT`, async () => {
      const net = new TestNet();
      const storage = new CorruptingStorage(bad);
      const first = new TestRaft('a', net, { storage });
      await waitFor(() => first.isLeader, 5000, 'a leader');
      await first.propose({ ok: true });
      first.end();
      const net2 = new TestNet();
      const again = new TestRaft('a', net2, { storage });
      const errors: unknown[] = [];
      again.listen('error', (error: unknown) => void errors.push(error));
      await expect(again.propose({ after: 1 })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
      expect(errors).toEqual([expect.objectContaining({ code: 'STORAGE_CORRUPT' })]);
      again.end();
    });
  }

  it('valid stored commands restart as before', async () => {
    const net = new TestNet();
    const storage = new MemoryStorage();
    const first = new TestRaft('a', net, { storage });
    await waitFor(() => first.isLeader, 5000, 'a leader');
    const { index } = await first.propose({ list: [1, 'two', null, { deep: true }] });
    first.end();
    const again = new TestRaft('a', new TestNet(), { storage });
    const applied: unknown[] = [];
    again.listen('apply', (entry: { command: unknown }) => void applied.push(entry.command));
    await waitFor(() => again.status().lastApplied >= index, 5000, 'the restarted node applied its log');
    expect(JSON.stringify(applied.at(-1))).toBe('{"list":[1,"two",null,{"deep":true}]}');
    again.end();
  });
});

describe('wireLimits lowered between runs', () => {
  it('a node still starts on a log whose commands exceed the new limits', async () => {
    const storage = new MemoryStorage();
    const first = new TestRaft('a', new TestNet(), { storage });
    await waitFor(() => first.isLeader, 5000, 'a leader');
    const { index } = await first.propose({ text: 'x'.repeat(5000) });
    first.end();
    const again = new TestRaft('a', new TestNet(), { storage, wireLimits: { maxStringLength: 1000 } });
    const errors: unknown[] = [];
    again.listen('error', (error: unknown) => void errors.push(error));
    await waitFor(() => again.status().lastApplied >= index, 5000, 'the restarted node applied its log');
    await again.propose({ text: 'short' });
    expect(errors).toEqual([]);
    again.end();
  });
});
