// Prints one plain closing line, "tests: N passed, N failed, N skipped", as the very last line of the run (after
// jest's own summary), so that tools which read a run's last lines — CI among them — see the counts in a form
// that does not depend on jest's wording.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
