import { spawnSync } from 'node:child_process';

/**
 * Prometheus's own checker (`promtool check metrics`, Debian package `prometheus`): a parser nobody here wrote, strict
 * about the text format and the naming rules. `undefined` when promtool is not installed; .ci/run installs it.
 */
export function promtoolCheckMetrics(exposition: string): { status: number; output: string } | undefined {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  if (run.error) throw run.error;
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}`.trim() };
}

/** Without promtool a suite is skipped with this message, except under CI (`CI` set), where it fails. */
export const PROMTOOL_MISSING =
  'promtool is not installed: the /metrics exposition was not checked (apt-get install -y --no-install-recommends prometheus; .ci/run does)';
