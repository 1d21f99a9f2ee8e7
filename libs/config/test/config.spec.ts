import { describe, expect, test } from '@jest/globals';
import { resolve } from 'node:path';
import { loadConfig } from '@access-ledger/config';

describe('loadConfig: the environment read once, flags on top', () => {
  test('defaults when the environment is empty; dataDir is the absolute LEDGER_DATA_DIR', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', LEDGER_DATA_DIR: './data', ACCESS_LOG: true });
    expect([config.KURRENTDB_URL, config.CLICKHOUSE_URL, config.LEDGER_SINKS_FILE, config.LEDGER_SOURCES_FILE]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(config.dataDir).toBe(resolve('./data'));
  });

  test('a flag overrides its variable; a flag not given (undefined) leaves the environment to decide', () => {
    const env = { PORT: '9000', HOST: '0.0.0.0', LEDGER_DATA_DIR: '/var/lib/ledger', LEDGER_URL: 'http://server:8080' };
    expect(loadConfig({ PORT: '7000', HOST: undefined, LEDGER_DATA_DIR: '/tmp/other' }, env)).toMatchObject({
      PORT: 7000,
      HOST: '0.0.0.0',
      dataDir: '/tmp/other',
      LEDGER_URL: 'http://server:8080',
    });
  });

  test('an empty store URL means the embedded store (as KURRENTDB_URL= in a shell)', () => {
    const config = loadConfig({}, { KURRENTDB_URL: '', CLICKHOUSE_URL: ' ' });
    expect([config.KURRENTDB_URL, config.CLICKHOUSE_URL]).toEqual([undefined, undefined]);
  });

  test('every invalid variable is listed, a flag validated like its variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' }, { RATE_LIMIT_BURST: '0', LOG_FORMAT: 'xml' })).toThrow(
      /invalid configuration:\n {2}PORT: .*\n {2}RATE_LIMIT_BURST: .*\n {2}LOG_FORMAT: /,
    );
  });
});
