import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', binary: 'src/binary/index.ts', node: 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  splitting: true,
  treeshake: true,
});
