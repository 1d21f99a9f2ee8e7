export * from './ledger.port.js';
export { Ledger, type LedgerOptions } from './ledger.js';
export { acceptedKeys, issuesOf } from './validation.js';
export {
  AccessQueries,
  ACCESS_QUERIES,
  ACCESS_QUERY_SCHEMAS,
  parseAccessQuery,
  type HoldersAccessQuery,
  type MemberAccessQuery,
  type TimelineAccessQuery,
  type WindowAccessQuery,
} from './access-queries.js';
export {
  DirectoryQueries,
  DIRECTORY_QUERY_SCHEMAS,
  type GroupDirectoryQuery,
  type GroupsDirectoryQuery,
  type InstantDirectoryQuery,
  type MembersDirectoryQuery,
} from './directory-queries.js';
export { seedHistory, type SeedItem, type SeedReport } from './seed.js';

import { Ledger, type LedgerOptions } from './ledger.js';

/** The Ledger on the configured stores: KurrentDB when a URL is given, else SQLite in `dataDir`. */
export function createLedger(options: LedgerOptions & { clickhouseUrl?: string }): Promise<Ledger> {
  return Ledger.open(options);
}
