import { bootstrapServiceDatabases, type ServiceDatabase } from '@hospital/db';
import { UsageError, type CommandContext } from './admin-commands';

const SERVICES = ['billing', 'housekeeping', 'pharmacy'] as const;

/**
 * `hospital db bootstrap`: creates the three services' schemas and roles
 * (idempotent), from DATABASE_ADMIN_URL and <SERVICE>_DB_PASSWORD, as the
 * one-shot step before the consumer services start (docker compose).
 */
export async function dbCommand(args: string[], context: CommandContext): Promise<void> {
  if (args[0] !== 'bootstrap' || args.length > 1)
    throw new UsageError('db takes one action: bootstrap');
  const adminUrl = process.env.DATABASE_ADMIN_URL;
  if (!adminUrl) throw new UsageError('db bootstrap needs DATABASE_ADMIN_URL');
  const services: ServiceDatabase[] = SERVICES.map((schema) => {
    const password = process.env[`${schema.toUpperCase()}_DB_PASSWORD`];
    if (!password) throw new UsageError(`db bootstrap needs ${schema.toUpperCase()}_DB_PASSWORD`);
    return { schema, role: `${schema}_svc`, password };
  });
  await bootstrapServiceDatabases(adminUrl, services);
  context.out(`schemas and roles ready: ${SERVICES.join(', ')}`);
}
