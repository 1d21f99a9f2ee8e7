export { openClickHouse, backendOf, type OpenClickHouseOptions, type ReadModelBackend } from './clickhouse.js';
export { migrate, appliedMigrations, MIGRATIONS, OPEN_END, type Migration } from './schema/migrations.js';
