import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The front end builds next to the compiled server, which serves it (dist/web).
export default defineConfig({
  root: resolve(import.meta.dirname, 'web'),
  base: '/',
  plugins: [vue()],
  // the holder signer (src/holder-signing.ts) uses the chaincode's own canonical JSON and signed message: bundle their
  // TypeScript source, since the compiled package is CommonJS outside node_modules
  resolve: { alias: [{ find: /^@trace\/chaincode\/dist\/src\/rules\/(.*)$/, replacement: resolve(import.meta.dirname, '../chaincode/src/rules/$1') }] },
  build: { outDir: resolve(import.meta.dirname, 'dist/web'), emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  logLevel: 'warn',
});
