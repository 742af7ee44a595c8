/**
 * IndexedDBStorage in a real browser: bundle src/storage/indexeddb-storage.ts
 * with esbuild into an IIFE, serve it on 127.0.0.1, save in headless Chromium,
 * reload the page, load() and compare. Skipped (with the reason printed) when
 * /usr/bin/chromium is absent, except under CI=true where that is a failure.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAVE_SEQUENCES, expectedState } from '../storage/fixtures/save-sequences.js';
import { chromiumAvailable, launchChromium, requireChromiumUnderCi, serveStatic, type StaticServer } from './chromium.js';

describe('browser environment', () => {
  requireChromiumUnderCi('browser IndexedDB test');
});

describe.skipIf(!chromiumAvailable)('IndexedDBStorage in headless Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('../../src/storage/indexeddb-storage.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      globalName: 'WebRaftIDB',
      platform: 'browser',
      target: 'es2022',
      write: false,
    });
    const script = bundle.outputFiles[0].text;
    const page = '<!doctype html><meta charset="utf-8"><title>webraft idb</title><script src="/bundle.js"></script>';
    server = await serveStatic({ '/': { type: 'text/html', body: page }, '/bundle.js': { type: 'text/javascript', body: script } });
    origin = server.origin;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('entries, hard state and snapshots survive a page reload', async () => {
    const page = await browser.newPage();
    await page.goto(origin);
    const sequences = SAVE_SEQUENCES.filter((s) => s.saves.length > 0);
    // Passed as JSON text: Playwright's serializable-argument type is too deep for these types.
    await page.evaluate(async (json: string) => {
      const { IndexedDBStorage } = (globalThis as any).WebRaftIDB;
      for (const seq of JSON.parse(json) as Array<{ name: string; saves: unknown[] }>) {
        const storage = new IndexedDBStorage(`db-${seq.name}`);
        await storage.load();
        for (const update of seq.saves) await storage.save(update);
        storage.close();
      }
    }, JSON.stringify(sequences));
    await page.reload();
    const loaded = await page.evaluate(async (names) => {
      const { IndexedDBStorage } = (globalThis as any).WebRaftIDB;
      const out: unknown[] = [];
      for (const name of names) {
        const storage = new IndexedDBStorage(`db-${name}`);
        out.push(await storage.load());
        storage.close();
      }
      return out;
    }, sequences.map((s) => s.name));
    for (let i = 0; i < sequences.length; i++) {
      expect(loaded[i], sequences[i].name).toEqual(await expectedState(sequences[i].saves));
    }
    await page.close();
  });
});
