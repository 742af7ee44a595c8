/**
 * The web demo (npm run demo:web) in headless Chromium: the server bundles
 * examples/web/app.ts with esbuild, the page runs five webraft nodes; the test
 * waits for a leader to be drawn, proposes through the UI, sees the command
 * committed in every log, stops the leader with its Stop button, waits for
 * another node to be drawn as leader, and restarts the old one.
 *
 * Screenshots go to docs/screenshots/ only with UPDATE_SCREENSHOTS=1 (else to a
 * temp dir). Skipped (with the reason printed) when Chromium is absent, except
 * under CI=true where that is a failure.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type DemoServer } from '../../examples/web/serve.js';
import { chromiumAvailable, launchChromium, requireChromiumUnderCi } from './chromium.js';


const screenshotDir =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : mkdtempSync(join(tmpdir(), 'webraft-web-demo-'));

describe('web demo environment', () => {
  requireChromiumUnderCi('web demo browser test');
});

async function leaderDrawn(page: Page, except?: string): Promise<string> {
  const handle = await page.waitForFunction(
    (old) => {
      const leaders = Array.from(document.querySelectorAll('#ring g[data-node][data-role="leader"]'))
        .map((g) => g.getAttribute('data-node'))
        .filter((id) => id !== old);
      return leaders.length === 1 ? leaders[0] : null;
    },
    except ?? null,
    { timeout: 15_000, polling: 50 },
  );
  return (await handle.jsonValue()) as string;
}

describe.skipIf(!chromiumAvailable)('web demo in headless Chromium', () => {
  let demo: DemoServer;
  let browser: Browser;

  beforeAll(async () => {
    demo = await startServer({ port: 0 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('elects a leader, commits a proposal, fails over when the leader is stopped', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(demo.url);
    expect(await page.locator('#ring g[data-node]').count()).toBe(5);

    // 1. A leader is drawn, and the table agrees.
    const leader = await leaderDrawn(page);
    await expect.poll(() => page.locator(`#nodes tr[data-node="${leader}"]`).getAttribute('data-role')).toBe('leader');
    const term = Number(await page.locator(`#ring g[data-node="${leader}"]`).getAttribute('data-term'));
    expect(term).toBeGreaterThan(0);

    // 2. Propose through the UI; the command shows up committed in all five logs.
    await page.fill('[data-propose-input]', 'set x=42');
    await page.click('[data-action="propose"]');
    const committed = page.locator('[data-log-node][data-command="set x=42"][data-committed="true"]');
    await expect.poll(() => committed.count(), { timeout: 10_000, interval: 100 }).toBe(5);
    const snapshot = await page.evaluate(() => (window as any).__webraft.status());
    for (const node of snapshot) expect(node.log.some((e: { command: unknown; committed: boolean }) => e.command === 'set x=42' && e.committed)).toBe(true);

    // A second proposal, pictured while its AppendEntries are on the wire.
    await page.fill('[data-propose-input]', 'y=7');
    await page.click('[data-action="propose"]');
    // Pause (the page's own Pause button) once an AppendEntries is halfway, so the picture shows it.
    await page.waitForFunction(
      () => {
        const demo = (window as any).__webraft;
        const now = demo.clock.now();
        for (const m of demo.network.inFlight.values()) {
          if (m.kind === 'append' && !m.response && (now - m.sentAt) / (m.arriveAt - m.sentAt) > 0.4) {
            (document.querySelector('[data-action="pause"]') as HTMLButtonElement).click();
            return true;
          }
        }
        return false;
      },
      null,
      { timeout: 5_000, polling: 'raf' },
    );
    await page.waitForTimeout(50); // a frame or two of the paused state
    await page.screenshot({ path: join(screenshotDir, 'web-demo-leader.png'), fullPage: true });
    await page.click('[data-action="resume"]');
    await expect.poll(() => page.locator('[data-log-node][data-command="y=7"][data-committed="true"]').count(), { timeout: 10_000, interval: 100 }).toBe(5);

    // 3. Stop the leader through its button; another node is drawn as leader.
    await page.click(`#nodes tr[data-node="${leader}"] [data-action="stop"]`);
    await expect.poll(() => page.locator(`#ring g[data-node="${leader}"]`).getAttribute('data-role')).toBe('stopped');
    const next = await leaderDrawn(page, leader);
    expect(next).not.toBe(leader);
    expect(Number(await page.locator(`#ring g[data-node="${next}"]`).getAttribute('data-term'))).toBeGreaterThan(term);

    // 4. The new leader commits a new command on the four running nodes.
    await page.fill('[data-propose-input]', 'after failover');
    await page.click('[data-action="propose"]');
    await expect.poll(() => page.locator('[data-log-node][data-command="after failover"][data-committed="true"]').count(), { timeout: 10_000, interval: 100 }).toBe(4);
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(screenshotDir, 'web-demo-failover.png'), fullPage: true });

    // 5. Restart the old leader (a new RaftInterface on its MemoryStorage): it rejoins as a follower and catches up.
    await page.click(`#nodes tr[data-node="${leader}"] [data-action="restart"]`);
    await expect.poll(() => page.locator(`[data-log-node="${leader}"][data-command="after failover"][data-committed="true"]`).count(), { timeout: 10_000, interval: 100 }).toBe(1);
    expect(await page.locator(`#ring g[data-node="${leader}"]`).getAttribute('data-role')).toBe('follower');

    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);
});
