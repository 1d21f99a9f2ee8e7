import cliProgress from 'cli-progress';

/** Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise (logs, CI). */
export interface Progress {
  update(done: number, detail: string): void;
  stop(): void;
}

export function progressOnStderr(label: string, total: number, unit: string): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} |{bar}| {percentage}% | {value}/{total} ${unit} | {detail} | eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: '' });
    return { update: (done, detail) => bar.update(done, { detail }), stop: () => bar.stop() };
  }
  let last = 0;
  const started = Date.now();
  return {
    update(done, detail) {
      const now = Date.now();
      if (now - last < 2000 && done < total) return;
      last = now;
      const percent = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
      // The ETA at the rate so far (none until something is done, nothing left once done).
      const eta = done > 0 && done < total ? ` eta ${Math.ceil((((now - started) / done) * (total - done)) / 1000)} s` : '';
      process.stderr.write(`${label}: ${done}/${total} ${unit}${percent}${eta}${detail ? ` ${detail}` : ''}\n`);
    },
    stop() {},
  };
}
