// Prints the counts per test level, then one plain closing line, "tests: N passed, N failed, N skipped", as the very
// last line of the run (after jest's own summary), so that tools which read a run's last lines — CI among them — see
// the counts in a form that does not depend on jest's wording. The level of a suite is its file name (README "Tests"):
// `*.e2e-spec.ts` end to end, `*.int.spec.ts` integration, any other `*.spec.ts` unit.
const LEVELS = ['unit', 'integration', 'e2e'];

function levelOf(path) {
  if (path.endsWith('.e2e-spec.ts')) return 'e2e';
  if (path.endsWith('.int.spec.ts')) return 'integration';
  return 'unit';
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const counts = Object.fromEntries(LEVELS.map((level) => [level, { suites: 0, passed: 0, failed: 0, skipped: 0 }]));
    for (const suite of results.testResults) {
      const count = counts[levelOf(suite.testFilePath)];
      count.suites += 1;
      count.passed += suite.numPassingTests;
      // A suite that fails to load has no test results but counts as failed in jest's totals.
      count.failed += suite.numFailingTests + (suite.testExecError && suite.numFailingTests === 0 ? 1 : 0);
      count.skipped += suite.numPendingTests + suite.numTodoTests;
    }
    const perLevel = LEVELS.map((level) => {
      const c = counts[level];
      return `${level}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${c.suites} suites)\n`;
    }).join('');
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`;
    process.once('exit', () => process.stderr.write(perLevel + line));
  }
}
module.exports = SummaryReporter;
