import fc from 'fast-check';
import type { HistoryOptions } from '../src/index.js';

/** Small but arbitrary history parameters (10–40 users per organization, up to a year): fast to generate and check. */
export const smallOptions: fc.Arbitrary<HistoryOptions> = fc
  .record({
    seed: fc.nat(),
    orgs: fc.integer({ min: 1, max: 6 }),
    perOrg: fc.integer({ min: 10, max: 40 }),
    groups: fc.integer({ min: 3, max: 25 }),
    customRoles: fc.integer({ min: 1, max: 12 }),
    connectors: fc.integer({ min: 1, max: 8 }),
    toolsPerConnector: fc.integer({ min: 3, max: 14 }),
    years: fc.constantFrom(0.1, 0.25, 0.5, 1),
    lateImports: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ perOrg, ...o }) => ({ ...o, users: Math.max(20, perOrg * o.orgs), start: '2024-06-03T00:00:00.000Z' }));
