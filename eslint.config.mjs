import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.devnet/**', 'build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // the chaincode also runs on Node 12.16.1 (TBaaS, Fabric 2.3), where the node: scheme does not exist
    files: ['chaincode/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^node:', message: "Node 12 has no node: specifiers: import the plain module name ('crypto')." }] }],
    },
  },
  {
    // the pages' scripts: plain browser scripts sharing globals through <script> tags
    files: ['indexer/web/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        ['window', 'document', 'fetch', 'navigator', 'location', 'sessionStorage', 'crypto', 'console', 'setTimeout', 'clearTimeout', 'history', 'FormData', 'URLSearchParams', 'Node', 'echarts', 'api', 'el', 'fmtTime', 'shortHash', 'round', 'loadWorldMap', 'KEY_STORE'].map((g) => [g, 'readonly']),
      ),
    },
    rules: { 'no-unused-vars': ['error', { varsIgnorePattern: '^(api|el|fmtTime|shortHash|round|loadWorldMap|KEY_STORE)$' }], '@typescript-eslint/no-unused-vars': 'off', 'no-redeclare': 'off' },
  },
);
