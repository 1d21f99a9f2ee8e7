import type { Command } from 'commander';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { LedgerConfig } from '@access-ledger/config';
import { CliError, configOf } from '../program.js';

/** The report names (the catalog lives in apps/api/src/read-model/reports.ts; `audit` is the audit search). */
const REPORT_NAMES = ['audit', 'access-review', 'holders-during', 'changes', 'privileged', 'sod-violations', 'orphaned-api-keys', 'custom-without-group'];

interface ReportOptions {
  tenant: string;
  org?: string;
  at?: string;
  from?: string;
  to?: string;
  format: string;
  param: string[];
  url?: string;
  key?: string;
}

const BEFORE_BASELINE = 'urn:access-ledger:problem:before-baseline';

/** `--param k=v` (repeatable) plus the named options, as the route's query parameters. */
function queryOf(name: string, options: ReportOptions): [string, string][] {
  const pairs: [string, string][] = [];
  for (const p of options.param) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CliError(`--param ${p}: expected key=value`, 2);
    pairs.push([p.slice(0, eq), p.slice(eq + 1)]);
  }
  if (options.at) pairs.push(['at', options.at]);
  if (options.from) pairs.push(['from', options.from]);
  if (options.to) pairs.push(['to', options.to]);
  if (name === 'audit' && options.org) pairs.push(['orgId', options.org]);
  if (name !== 'audit') pairs.push(['format', options.format]);
  return pairs;
}

/** Repeated keys become arrays (type=a&type=b, pairs=…), as Fastify parses a query string. */
function objectOf(pairs: readonly [string, string][]): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [k, v] of pairs) {
    const existing = query[k];
    query[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return query;
}

/** A CSV answer as it arrives (the access review's is streamed, and can be large), honouring stdout's backpressure. */
async function writeStream(body: AsyncIterable<Uint8Array | string>): Promise<void> {
  for await (const chunk of body) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}

/** The audit search has no CSV form on the route: its page is rendered here, one event a row. */
async function write(name: string, format: string, body: unknown): Promise<void> {
  if (typeof body === 'string') return void process.stdout.write(body);
  if (body === undefined) return; // streamed to stdout already
  const next = (body as { nextCursor?: unknown }).nextCursor;
  if (name === 'access-review' && typeof next === 'string') process.stderr.write(`more members: -p cursor=${next}\n`);
  if (name === 'audit' && format === 'csv') {
    const { toCsv } = await import('@access-ledger/read-model');
    const page = body as { events: Record<string, unknown>[]; nextCursor: string | null };
    process.stdout.write(toCsv(page.events));
    if (page.nextCursor) process.stderr.write(`more events: -p cursor=${page.nextCursor}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
}

/** Over HTTP: the server owns the chDB data directory while it runs. */
async function viaServer(name: string, options: ReportOptions, url: string, key: string): Promise<void> {
  const tenant = encodeURIComponent(options.tenant);
  const path = name === 'audit' ? `/v1/tenants/${tenant}/audit/events` : `/v1/tenants/${tenant}/orgs/${encodeURIComponent(options.org!)}/reports/${name}`;
  const query = new URLSearchParams(queryOf(name, options)).toString();
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, '')}${path}${query ? `?${query}` : ''}`, { headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw new CliError(`cannot reach ${url}: ${(error as Error).cause ?? (error as Error).message}`, 1);
  }
  if (res.ok && res.body && res.headers.get('content-type')?.startsWith('text/csv')) return writeStream(Readable.fromWeb(res.body));
  const text = await res.text();
  if (!res.ok) {
    let message = `${res.status} ${text}`;
    try {
      const problem = JSON.parse(text) as { type?: string; detail?: string; errors?: { path: string; message: string }[] };
      // Before the organization's baseline: the server's message as is, and the exit code of the on-disk path.
      if (problem.type === BEFORE_BASELINE) throw new CliError(problem.detail ?? text, 3);
      message = `${res.status}: ${problem.detail ?? text}${(problem.errors ?? []).map((e) => `\n  ${e.path || '(query)'}: ${e.message}`).join('')}`;
    } catch (error) {
      if (error instanceof CliError) throw error;
      // not problem+json: print the raw answer
    }
    throw new CliError(message, res.status === 400 || res.status === 404 ? 2 : 1);
  }
  await write(name, options.format, res.headers.get('content-type')?.startsWith('text/csv') ? text : JSON.parse(text));
}

/** On the data directory: chDB opened by this process (the server must not be running on it). */
async function onDisk(name: string, options: ReportOptions, config: LedgerConfig): Promise<void> {
  const [{ searchAuditEvents }, { InvalidInputError }, { reports, withReadModelOnDisk, ReadModelInUseError }, { progressOnStderr }] = await Promise.all([
    import('@access-ledger/read-model'),
    import('@access-ledger/ledger'),
    import('../../../api/src/server.js'),
    import('../progress.js'),
  ]);
  const query = objectOf(queryOf(name, options));
  // Validate before opening anything: a bad period or format is refused like the route refuses it (400 → exit 2).
  let run: (client: Parameters<typeof searchAuditEvents>[0]) => Promise<unknown>;
  try {
    if (name === 'audit') {
      // minPosition is met by construction here (the read model is caught up first), but still validated.
      const search = reports.parseAuditSearchRequest(query);
      run = (client) => searchAuditEvents(client, options.tenant, search.query);
    } else {
      const definition = reports.reportNamed(name)!;
      const request = reports.parseReportRequest(definition, options.org!, query);
      run = async (client) => {
        const { body } = await reports.runReport(client, options.tenant, definition, request);
        // A stream reads the read model as it is written out: before the read model closes.
        if (body instanceof Readable) return void (await writeStream(body));
        return body;
      };
    }
  } catch (error) {
    if (error instanceof InvalidInputError)
      throw new CliError(`invalid report parameters:${error.errors.map((e) => `\n  ${e.path || '(query)'}: ${e.message}`).join('')}`, 2);
    throw error;
  }
  if (name !== 'audit') {
    // As the route does: an organization, permission or level the access projection never had is an error, not an
    // empty report (ClickHouse holding no rows for it is no evidence).
    const { withLedger } = await import('../ledger-on-disk.js');
    try {
      await withLedger(config, async (ledger) => {
        await ledger.runner.catchUp();
        const definition = reports.reportNamed(name)!;
        const request = reports.parseReportRequest(definition, options.org!, query);
        // Before the organization's baseline the answer is unknown: BeforeBaselineError, exit 3 (main.ts).
        await ledger.queries.requireOrganization(options.tenant, options.org!, reports.reportSince(definition, request));
        await reports.requireKnownPermissions(ledger.queries, options.tenant, request);
      });
    } catch (error) {
      if (error instanceof InvalidInputError)
        throw new CliError(`invalid report parameters:${error.errors.map((e) => `\n  ${e.path || '(query)'}: ${e.message}`).join('')}`, 2);
      throw error;
    }
  }
  let progress: ReturnType<typeof progressOnStderr> | undefined;
  try {
    const body = await withReadModelOnDisk(config, run, {
      onProgress: (done, head) => {
        if (done >= head && !progress) return;
        progress ??= progressOnStderr('audit trail catch-up', head, 'events');
        progress.update(done, '');
      },
    });
    progress?.stop();
    await write(name, options.format, body);
  } catch (error) {
    progress?.stop();
    if (error instanceof ReadModelInUseError) throw new CliError(error.message, 2);
    throw error;
  }
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Print a compliance report or an audit search (JSON or CSV on stdout), from the read model in --data-dir or from a running server (--url).')
    .argument('<name>', `one of ${REPORT_NAMES.join(', ')}`)
    .requiredOption('-t, --tenant <tenant>', 'tenant')
    .option('-o, --org <orgId>', 'organization (required except for audit, where it filters)')
    .option(
      '--at <instant>',
      'an instant: 2026-03-01, 2026-03-01T09:00:00Z or …T09:00:00.000+02:00 (access-review, orphaned-api-keys, custom-without-group; default now)',
    )
    .option('--from <instant>', 'start of the period, inclusive (an instant: 2026-03-01, …T09:00:00Z or …+02:00)')
    .option('--to <instant>', 'end of the period, exclusive (an instant: 2026-03-01, …T09:00:00Z or …+02:00)')
    .option('-f, --format <format>', 'json or csv', 'json')
    .option(
      '-p, --param <key=value>',
      'another query parameter, repeatable (permission=…, levels=…, bucket=week, pairs=…, includeSuspended=true; access-review: limit, cursor (its JSON pages; the CSV is complete); audit: actor, subject, type, limit, cursor)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--url <url>', 'ask this running server instead of opening the data directory (env LEDGER_URL)')
    .option('--key <key>', 'API key for --url (env LEDGER_KEY)')
    .addHelpText(
      'after',
      '\nWhere the answer comes from:\n' +
        "  with --url and --key (or LEDGER_URL / LEDGER_KEY): the running server's HTTP route (the key needs audit:read).\n" +
        '  otherwise: the read model in --data-dir, opened by this command (embedded chDB, or CLICKHOUSE_URL) after it\n' +
        '  caught the audit trail and access intervals up with the event store. chDB allows one process per data\n' +
        '  directory, so this works only while the server is NOT running on it (exit 2 with a hint otherwise).\n' +
        "\nExit codes: 0 printed, 1 failure (e.g. the server refused the key), 2 invalid parameters, unknown report, read model in use, 3 the period starts before the organization's baseline (its access then is unknown; the message says from when it is known).\n" +
        '\nExamples:\n' +
        '  $ ledger report access-review -t demo -o org-1 --at 2026-03-31T00:00:00.000Z --format csv > review.csv\n' +
        '  $ ledger report holders-during -t demo -o org-1 --from 2026-01-01T00:00:00.000Z --to 2026-04-01T00:00:00.000Z -p permission=admin:billing\n' +
        '  $ ledger report audit -t demo -p subject=u-00017 -p limit=20\n' +
        '  $ LEDGER_URL=http://127.0.0.1:8080 LEDGER_KEY=lk_… ledger report sod-violations -t demo -o org-1 --from … --to …\n',
    )
    .action(async (name: string, options: ReportOptions, command: Command) => {
      // `ledger report … | head` closes the pipe early: that ends the output, it is not a failure.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0);
        process.exitCode = 1;
      });
      if (!REPORT_NAMES.includes(name)) throw new CliError(`unknown report "${name}": one of ${REPORT_NAMES.join(', ')}`, 2);
      if (options.format !== 'json' && options.format !== 'csv') throw new CliError(`--format ${options.format}: json or csv`, 2);
      if (name !== 'audit' && !options.org) throw new CliError(`report ${name} needs --org`, 2);
      const config = configOf(command, { LEDGER_URL: options.url, LEDGER_KEY: options.key });
      if (config.LEDGER_URL) {
        if (!config.LEDGER_KEY) throw new CliError('--url needs --key (or LEDGER_KEY)', 2);
        await viaServer(name, options, config.LEDGER_URL, config.LEDGER_KEY);
      } else {
        await onDisk(name, options, config);
      }
    });
}
