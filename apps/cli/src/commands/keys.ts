import type { Command } from 'commander';
import { ApiKeyStore, PRINCIPAL_CHOICES, formatPrincipal, openApiDatabase, parsePrincipal, SCOPES, Scope } from '../../../api/src/index.js';
import type { Principal } from '@access-ledger/access-model';
import { Id } from '@access-ledger/access-model';
import { CliError, dataDirOf } from '../program.js';

function withKeys<T>(command: Command, work: (keys: ApiKeyStore) => T): T {
  const db = openApiDatabase(dataDirOf(command));
  try {
    return work(new ApiKeyStore(db));
  } finally {
    db.close();
  }
}

function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = scopes.filter((s) => !Scope.safeParse(s).success);
  if (scopes.length === 0 || bad.length > 0) throw new CliError(`unknown scope(s): ${bad.join(', ') || '(none given)'}; scopes are ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

/** Keys that write events must say whom they speak for; read-only keys default to `system`. */
function parsePrincipalOption(text: string | undefined, scopes: readonly Scope[]): Principal {
  if (text === undefined) {
    const writing = scopes.filter((s) => s === 'commands:write' || s === 'events:import');
    if (writing.length > 0) throw new CliError(`--principal is required with scope ${writing.join(', ')}: ${PRINCIPAL_CHOICES}`);
    return { kind: 'system' };
  }
  const principal = parsePrincipal(text);
  if (!principal) throw new CliError(`invalid --principal "${text}": ${PRINCIPAL_CHOICES}`);
  return principal;
}

function parseTenant(tenant: string): string {
  if (!Id.safeParse(tenant).success) throw new CliError(`invalid tenant id "${tenant}": 1–128 characters of A-Z a-z 0-9 . _ : @ -`);
  return tenant;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Manage API keys (stored hashed in <data-dir>/api.sqlite; works while the server runs)');

  keys
    .command('create')
    .description('Create an API key for a tenant and print it. The key is shown once: only its SHA-256 hash is stored.')
    .requiredOption('-t, --tenant <tenant>', 'tenant the key belongs to')
    .requiredOption('-s, --scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`)
    .option(
      '-p, --principal <principal>',
      `whom the key speaks for (commands without actor act as it): ${PRINCIPAL_CHOICES}; required with commands:write or events:import`,
    )
    .option('-n, --name <name>', 'a label for `keys list`', undefined)
    .option('--json', 'print the key as JSON', false)
    .addHelpText(
      'after',
      '\nExample:\n  $ ledger keys create --tenant acme --scopes commands:write,access:read --principal member:acme-eng/u-alice --name alice\n',
    )
    .action((options: { tenant: string; scopes: string; principal?: string; name?: string; json: boolean }, command: Command) => {
      const tenantId = parseTenant(options.tenant);
      const scopes = parseScopes(options.scopes);
      const principal = parsePrincipalOption(options.principal, scopes);
      const key = withKeys(command, (store) => store.create({ tenantId, scopes, principal, ...(options.name ? { name: options.name } : {}) }));
      if (options.json) process.stdout.write(`${JSON.stringify(key)}\n`);
      else {
        process.stdout.write(`${key.key}\n`);
        process.stderr.write(
          `key ${key.id} for tenant ${key.tenantId} as ${formatPrincipal(key.principal)} with scopes ${key.scopes.join(',')}; store it now, it is not shown again\n`,
        );
      }
    });

  keys
    .command('list')
    .description('List the API keys of a tenant (ids, names, principals, scopes, dates; never the secrets)')
    .requiredOption('-t, --tenant <tenant>', 'tenant whose keys to list')
    .option('--json', 'print JSON lines', false)
    .addHelpText('after', '\nExample:\n  $ ledger keys list --tenant acme\n')
    .action((options: { tenant: string; json: boolean }, command: Command) => {
      const list = withKeys(command, (store) => store.list(parseTenant(options.tenant)));
      for (const k of list) {
        process.stdout.write(
          options.json
            ? `${JSON.stringify(k)}\n`
            : `${k.id}  ${k.name.padEnd(16)}  ${formatPrincipal(k.principal).padEnd(24)}  ${k.scopes.join(',').padEnd(40)}  created ${k.createdAt}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}\n`,
        );
      }
      if (list.length === 0 && !options.json) process.stderr.write(`no keys for tenant ${options.tenant}\n`);
    });

  keys
    .command('revoke')
    .description('Revoke an API key by id (as `keys list` shows it); requests with it get 401 from then on')
    .argument('<id>', 'key id')
    .addHelpText('after', '\nExample:\n  $ ledger keys revoke 3f2a9c0e1b7d4a55\n')
    .action((id: string, _options: unknown, command: Command) => {
      if (!withKeys(command, (store) => store.revoke(id))) throw new CliError(`no live key with id ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    });
}
