/**
 * What the headless-Chromium tests share: where Chromium is, how it is
 * launched, the "must exist under CI" rule, and a tiny static server on
 * 127.0.0.1. Test code only.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { expect, it } from 'vitest';

/** Overridable (WEBRAFT_CHROMIUM) to exercise the skip / CI-fail paths. */
export const CHROMIUM = process.env.WEBRAFT_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);

/**
 * Prints why `what` is skipped when Chromium is absent, and registers a test
 * that fails under CI=true in that case (CI installs Chromium, so a skip there
 * would hide a broken set-up). Call inside a `describe`.
 */
export function requireChromiumUnderCi(what: string): void {
  const reason = `${CHROMIUM} not found: ${what} skipped`;
  if (!chromiumAvailable) console.warn(reason);
  it.runIf(process.env.CI === 'true')('has Chromium under CI', () => {
    expect(chromiumAvailable, reason).toBe(true);
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/** Serves `files` (URL path -> content type and body) on 127.0.0.1 at a free port; anything else is 404. */
export async function serveStatic(files: Record<string, { type: string; body: string }>): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const file = Object.hasOwn(files, req.url ?? '') ? files[req.url ?? ''] : undefined;
    if (file) res.writeHead(200, { 'content-type': file.type }).end(file.body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
