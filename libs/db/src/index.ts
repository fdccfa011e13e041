// Postgres helpers for the consumer services: schema and role bootstrap, and Prisma-layout migrations without the Prisma CLI.
export { bootstrapServiceDatabases, serviceUrl, type ServiceDatabase } from './bootstrap';
export { applyMigrations, readMigrations, type MigrationResult } from './migrations';
export { identifier } from './identifiers';
export {
  newestPerKey,
  readConsumedOffset,
  versionedBatchStatement,
  writeVersionedBatch,
  type ChildTableSpec,
  type ConsumedPosition,
  type SqlClient,
  type SqlRow,
  type SqlValue,
  type TableSpec,
  type VersionedRowsSpec,
  type VersionedTableSpec,
} from './versioned-rows';
