import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    allowOnly: false,
    // A stray rejection or leaked listeners fail the test they happened in.
    setupFiles: ['test/setup/stray-errors.ts'],
    // Tests choose their own paths: a proxy in the caller's environment must not leak in.
    env: { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', ALL_PROXY: '', all_proxy: '', NO_PROXY: '', no_proxy: '' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests bind real sockets; keep files from starving each other on a 2-core machine.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: ['test/fault-matrix.test.ts'], sequence: { groupOrder: 0 } },
      },
      // Every fault at once, against 4 s deadlines: it runs after the rest, alone, so
      // no other test file takes the CPU its healthy hosts need.
      { extends: true, test: { name: 'fault-matrix', include: ['test/fault-matrix.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
