/**
 * `npm run demo:web`: bundles examples/web/app.ts with esbuild, as an
 * application would bundle its use of `webraft`, and serves the page on
 * 127.0.0.1 (default port 8080; `--port N`, 0 for any free port).
 *
 * `webraft` is resolved with an esbuild alias to the package's source entry
 * (src/index.ts), the same file the package's `exports["."]` is built from, so
 * the demo needs no prior `npm run build`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');

export interface DemoServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Bundles app.ts for the browser; returns the JavaScript text. */
export async function bundleApp(): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [resolve(here, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: { webraft: './src/index.ts' },
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export async function startServer(options: { port?: number; host?: string } = {}): Promise<DemoServer> {
  const host = options.host ?? '127.0.0.1';
  const [script, page] = await Promise.all([bundleApp(), readFile(resolve(here, 'index.html'), 'utf8')]);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    } else if (path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(script);
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function parsePort(argv: string[]): number {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return Number(process.env.PORT ?? 8080);
  const value = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return port;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  startServer({ port: parsePort(process.argv.slice(2)) }).then(
    (demo) => console.log(`WebRaft web demo: ${demo.url}  (Ctrl+C to stop)`),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
