import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

/** Tests import the package by name ('webraft', 'webraft/binary', 'webraft/node'); these point at src/. */
export const resolve = {
  alias: [
    { find: /^webraft\/binary$/, replacement: src('binary/index.ts') },
    { find: /^webraft\/node$/, replacement: src('node/index.ts') },
    { find: /^webraft$/, replacement: src('index.ts') },
  ],
};

export default defineConfig({
  resolve,
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ['test/interop/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
