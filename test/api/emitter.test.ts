/** Emitter: order, listenOnce, and listeners added or removed while an event is being emitted. */
import { describe, expect, it } from 'vitest';
import { TestNet, TestRaft } from './helpers.js';
import { Emitter } from '../../src/api/emitter.js';

describe('Emitter', () => {
  it('calls listeners in the order they were added; listenOnce fires once', () => {
    const emitter = new Emitter();
    const calls: string[] = [];
    emitter.listen('e', (value: never) => calls.push(`first ${value}`));
    emitter.listenOnce('e', (value: never) => calls.push(`once ${value}`));
    emitter.listen('e', (value: never) => calls.push(`last ${value}`));
    expect(emitter.emit('e', 1)).toBe(true);
    expect(emitter.emit('e', 2)).toBe(true);
    expect(calls).toEqual(['first 1', 'once 1', 'last 1', 'first 2', 'last 2']);
    expect(emitter.emit('nobody', 1)).toBe(false);
  });

  it('a listener removed or added during an emit takes effect from the next emit', () => {
    const emitter = new Emitter();
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    const added = () => calls.push('added');
    emitter.listen('e', () => {
      calls.push('remover');
      emitter.unlisten('e', removed);
      emitter.listen('e', added);
    });
    emitter.listen('e', removed);
    const snapshot = emitter.listenersOf('e');
    emitter.emit('e');
    expect(calls).toEqual(['remover', 'removed']);
    // A list handed out earlier never changes.
    expect(snapshot).toHaveLength(2);
    calls.length = 0;
    emitter.emit('e');
    expect(calls).toEqual(['remover', 'added']);
    expect(emitter.count('e')).toBe(3);
  });

  it('unlisten by the original handler removes a listenOnce wrapper; the last removal forgets the type', () => {
    const emitter = new Emitter();
    const handler = () => {};
    emitter.listenOnce('e', handler);
    emitter.unlisten('e', handler);
    expect(emitter.count('e')).toBe(0);
    expect(emitter.emit('e')).toBe(false);
    emitter.unlisten('e', handler); // removing an absent listener is harmless
    expect(emitter.count('e')).toBe(0);
  });

  it('a throwing listener goes to onListenerError and the others still run', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter((type, error) => errors.push([type, (error as Error).message]));
    const calls: number[] = [];
    emitter.listen('e', () => {
      throw new Error('boom');
    });
    emitter.listen('e', () => calls.push(1));
    emitter.emit('e');
    expect(calls).toEqual([1]);
    expect(errors).toEqual([['e', 'boom']]);
  });
});

describe('listen and listenOnce on a node', () => {
  it('refuse a handler that is not a function, or a type that is not a string, with INVALID_ARGUMENT', () => {
    const node = new TestRaft('a', new TestNet());
    expect(() => node.listen('apply', 5 as unknown as () => void)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => node.listenOnce('leader', undefined as unknown as () => void)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => node.listen(7 as unknown as string, () => {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const stop = node.listen('leader', () => {});
    expect(typeof stop).toBe('function');
    node.end();
  });
});
