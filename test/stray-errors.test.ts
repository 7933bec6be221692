// The suite fails on an unhandled rejection and on leaked listeners, and says in which
// test: vitest runs a fixture file that leaves one of each behind, with the setup file
// every test of this suite has (vitest.config.ts, setupFiles).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/monitoring-queries.js';

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
}

describe('stray errors', () => {
  it('fail the test that left them, and the run', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/fixtures/stray-errors/vitest.config.ts'],
        { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CI: '1' } },
        (error, out) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out }),
      );
    });
    expect(code).not.toBe(0);
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as JsonReport;
    const results = Object.fromEntries(report.testResults.flatMap((f) => f.assertionResults).map((r) => [r.title, r]));
    expect(results['leaves a rejection unhandled']?.status).toBe('failed');
    expect(results['leaves a rejection unhandled']?.failureMessages.join('\n')).toContain('unhandled rejection: Error: nobody handles this');
    expect(results['leaks abort listeners']?.status).toBe('failed');
    expect(results['leaks abort listeners']?.failureMessages.join('\n')).toContain('MaxListenersExceededWarning');
    expect(results['is clean']?.status).toBe('passed');
    // And the suite's own config has the setup file.
    expect(readFileSync(`${REPO_ROOT}/vitest.config.ts`, 'utf8')).toContain("setupFiles: ['test/setup/stray-errors.ts']");
  });
});
