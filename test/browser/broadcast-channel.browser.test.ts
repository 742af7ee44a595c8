/**
 * examples/broadcast-channel in headless Chromium: main.ts is bundled in memory
 * with esbuild ('webraft' aliased to src/index.ts), index.html and the bundle
 * are served on 127.0.0.1, and three tabs of one browser context open #a, #b
 * and #c (one Raft node each, IndexedDB state, BroadcastChannel transport).
 * The test waits until the tabs agree on a leader, proposes through a
 * follower's form and sees it committed there and applied in every tab's log,
 * closes the leader's tab, waits for one of the two left to become leader and
 * commits again on both. Skipped (with the reason printed) when Chromium is
 * absent, except under CI=true where that is a failure.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, requireChromiumUnderCi, serveStatic, type StaticServer } from './chromium.js';

const example = (file: string) => fileURLToPath(new URL(`../../examples/broadcast-channel/${file}`, import.meta.url));
const WAIT = { timeout: 20_000, polling: 50 };

describe('broadcast-channel example environment', () => {
  requireChromiumUnderCi('BroadcastChannel example browser test');
});

/** Waits until `pages` agree on a leader other than `except`, one of them saying it is that leader. */
async function agreedLeader(pages: Map<string, Page>, except?: string): Promise<string> {
  const [first] = pages.values();
  const named = await first.waitForFunction(
    (old) => {
      const leader = /^\w+, term \d+, leader ([abc]),/.exec(document.getElementById('status')?.textContent ?? '')?.[1];
      return leader && leader !== old ? leader : null;
    },
    except ?? null,
    WAIT,
  );
  const leader = (await named.jsonValue()) as string;
  expect([...pages.keys()]).toContain(leader);
  for (const [id, page] of pages) {
    const state = id === leader ? 'leader' : 'follower';
    await page.waitForFunction(
      ([state, leader]) => new RegExp(`^${state}, term \\d+, leader ${leader},`).test(document.getElementById('status')?.textContent ?? ''),
      [state, leader],
      WAIT,
    );
  }
  return leader;
}

/** Proposes `text` through the form of `pages[from]`; expects it committed there and applied in every page's log. */
async function proposeAndSeeApplied(pages: Map<string, Page>, from: string, text: string): Promise<number> {
  const page = pages.get(from)!;
  const before = await page.textContent('#result'); // a new outcome replaces the last one
  await page.fill('#command', text);
  await page.press('#command', 'Enter');
  const result = await page.waitForFunction((before) => {
    const text = document.getElementById('result')?.textContent ?? '';
    return text !== before && text !== '' ? text : null; // "committed at index N" or "failed: ..."
  }, before, WAIT);
  const message = (await result.jsonValue()) as string;
  expect(message).toMatch(/^committed at index \d+$/);
  const index = Number(message.split(' ').pop());
  const json = JSON.stringify({ text, from }); // the apply listener writes `#index (term t): {json}`
  for (const [id, other] of pages) {
    const applied = ([index, json]: string[]) =>
      Array.from(document.querySelectorAll('#log li')).some((li) => new RegExp(`^#${index} \\(term \\d+\\): `).test(li.textContent ?? '') && li.textContent!.endsWith(`): ${json}`));
    await other.waitForFunction(applied, [String(index), json], WAIT);
    const items = await other.locator('#log li').allTextContents();
    expect(items.filter((item) => item.endsWith(json)), id).toHaveLength(1);
  }
  return index;
}

describe.skipIf(!chromiumAvailable)('broadcast-channel example in headless Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let origin: string;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [example('main.ts')],
      alias: { webraft: fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0].text;
    server = await serveStatic({
      '/': { type: 'text/html', body: readFileSync(example('index.html'), 'utf8') },
      '/main.js': { type: 'text/javascript', body: script },
    });
    origin = server.origin;
    browser = await launchChromium();
    context = await browser.newContext(); // BroadcastChannel joins pages of one origin in one context only
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it('three tabs elect a leader, commit from a follower, fail over when the leader tab closes', async () => {
    const errors: string[] = [];
    const pages = new Map<string, Page>();
    for (const id of ['a', 'b', 'c']) {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(`${id}: ${error}`));
      await page.goto(`${origin}/#${id}`);
      expect(await page.textContent('#me')).toBe(id);
      pages.set(id, page);
    }

    // 1. One tab is leader, the other two follow it.
    const leader = await agreedLeader(pages);

    // 2. A follower proposes through its form; every tab applies the command at the same index.
    const follower = [...pages.keys()].find((id) => id !== leader)!;
    const first = await proposeAndSeeApplied(pages, follower, 'hello from a follower');
    expect(first).toBeGreaterThan(0);

    // 3. Close the leader's tab: the two left (a majority) elect one of them and commit again.
    await pages.get(leader)!.close();
    pages.delete(leader);
    const next = await agreedLeader(pages, leader);
    expect(next).not.toBe(leader);
    const proposer = [...pages.keys()].find((id) => id !== next)!;
    expect(await proposeAndSeeApplied(pages, proposer, 'after the leader tab closed')).toBeGreaterThan(first);

    expect(errors).toEqual([]);
  }, 50_000);
});
