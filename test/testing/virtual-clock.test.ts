import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in (time, creation) order and only when run', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    expect(fired).toEqual([]);
    await clock.runFor(15);
    expect(fired).toEqual(['a@10']);
    expect(clock.now()).toBe(15);
    await clock.runFor(100);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(115);
  });

  it('does not fire a cleared timer, and lets promise chains started by a timer settle first', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const cleared = clock.setTimeout(() => fired.push('cleared'), 5);
    clock.clearTimeout(cleared);
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => fired.push('chain'));
    }, 5);
    clock.setTimeout(() => fired.push('next'), 6);
    await clock.runFor(10);
    expect(fired).toEqual(['chain', 'next']);
  });

  it('sleep resolves after virtual time passes', async () => {
    const clock = new VirtualClock();
    let woke = -1;
    void clock.sleep(30).then(() => (woke = clock.now()));
    await clock.runFor(29);
    expect(woke).toBe(-1);
    await clock.runFor(1);
    expect(woke).toBe(30);
  });
});
