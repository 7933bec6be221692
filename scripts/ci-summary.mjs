#!/usr/bin/env node
// Reads vitest's JSON report; prints "N passed, N failed, N skipped" and fails
// when any test failed or was skipped, or when no test ran at all.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-report.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || skipped > 0 || passed === 0) {
  if (skipped > 0) console.error('ci: skipped tests are not allowed');
  if (passed === 0) console.error('ci: no test ran');
  process.exit(1);
}
