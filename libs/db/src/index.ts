// Postgres helpers for the consumer services: schema and role bootstrap, and Prisma-layout migrations without the Prisma CLI.
export { bootstrapServiceDatabases, serviceUrl, type ServiceDatabase } from './bootstrap';
export { applyMigrations, readMigrations, type MigrationResult } from './migrations';
export { identifier } from './identifiers';
