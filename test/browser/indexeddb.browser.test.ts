/**
 * IndexedDBStorage in a real browser: bundle src/storage/indexeddb-storage.ts
 * with esbuild into an IIFE, serve it on 127.0.0.1, save in headless Chromium,
 * reload the page, load() and compare. Skipped (with the reason printed) when
 * /usr/bin/chromium is absent, except under CI=true where that is a failure.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAVE_SEQUENCES, expectedState } from '../storage/fixtures/save-sequences.js';

/** Overridable to exercise the skip / CI-fail paths. */
const CHROMIUM = process.env.WEBRAFT_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const skipReason = `${CHROMIUM} not found: browser IndexedDB test skipped`;
if (!available) console.warn(skipReason);

describe('browser environment', () => {
  it.runIf(process.env.CI === 'true')('has Chromium under CI', () => {
    expect(available, skipReason).toBe(true);
  });
});

describe.skipIf(!available)('IndexedDBStorage in headless Chromium', () => {
  let server: Server;
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
    server = createServer((req, res) => {
      if (req.url === '/bundle.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
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
