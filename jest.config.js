// Jest runs in its native ESM mode (NestJS 12 ships ESM only); @swc/jest strips the types and
// keeps the legacy decorators plus their metadata, which Nest's dependency injection reads.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  // Three levels, told apart by name (README "Tests"): unit `*.spec.ts`, integration `*.int.spec.ts`, end to end `*.e2e-spec.ts`.
  testMatch: ['**/*.spec.ts', '**/*.int.spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Libraries by name, from their sources (the packages' `exports` point at the compiled output for Node).
  moduleNameMapper: { '^@access-ledger/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
