import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^webraft\/binary$/, replacement: src('binary/index.ts') },
      { find: /^webraft\/node$/, replacement: src('node/index.ts') },
      { find: /^webraft$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
