/**
 * Screenshots a nemesis HTML report with the repository's headless Chromium
 * (playwright-core, /usr/bin/chromium or WEBRAFT_CHROMIUM):
 *
 *   npx tsx test/nemesis/screenshot.ts <report.html> <out.png> [--anomaly]
 *
 * `--anomaly` captures the first anomaly's section instead of the top of the page.
 */
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [report, out] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!report || !out) {
  console.error('usage: screenshot.ts <report.html> <out.png> [--anomaly]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.WEBRAFT_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1180, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(report)).href);
  if (process.argv.includes('--anomaly')) {
    const top = await page.evaluate(() => {
      const heading = Array.from(document.querySelectorAll('h2')).find((h) => h.textContent === 'Anomalies');
      return heading ? heading.getBoundingClientRect().top + window.scrollY - 10 : 0;
    });
    await page.screenshot({ path: out, clip: { x: 0, y: top, width: 1180, height: 900 }, fullPage: true });
  } else {
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1180, height: 1050 }, fullPage: true });
  }
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
