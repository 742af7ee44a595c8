import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.config.js';

/** The cross-language interop tests (npm run test:interop). */
export default defineConfig({
  resolve,
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
