// typescript-eslint on every TypeScript file, with the rules that catch what review found:
// floating promises, and workflow code reaching for Node or for activity implementations
// (which the workflow bundle cannot run deterministically).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.stack/**', '.scratch/**', '.test-logs/**', 'test/workflows/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Product code (the stack and benchmarks included) never leans on test support.
    files: ['activities/**/*.ts', 'client/**/*.ts', 'worker/**/*.ts', 'stack/**/*.ts', 'emulator/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**', '../test', '../../test'], message: 'product code does not import test support' }] },
      ],
    },
  },
  {
    // Adapters, one folder per outside system, know nothing of Temporal or of the steps that use
    // them: every step activity lives in activities/steps/.
    files: ['activities/*/**/*.ts'],
    ignores: ['activities/steps/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/test/**', '../test', '../../test'], message: 'product code does not import test support' },
            { group: ['@temporalio/*'], message: 'adapters know nothing of Temporal: a step activity goes in activities/steps/' },
            { group: ['../steps', '../steps/*', '../../steps/*'], message: 'adapters do not depend on the steps that use them' },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      // Types compile away, so a workflow may name an activity's result type; it may not import code.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'workflow code runs in the deterministic sandbox: no Node modules' },
            { group: ['**/test/**', '../test'], message: 'product code does not import test support' },
            {
              group: ['../activities', '../activities/*', '../activities/**', '../../activities', '../../activities/**'],
              message: 'workflows call activities through proxyActivities, never import them',
              allowTypeImports: true,
            },
          ],
          paths: ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'].map((name) => ({
            name,
            message: 'workflow code runs in the deterministic sandbox: no Node modules',
          })),
        },
      ],
    },
  },
);
