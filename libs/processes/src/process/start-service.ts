import { join } from 'node:path';
import { logMessage, startNodeProcess, type NodeProcess } from './node-process';

export type ServiceName = 'checkout' | 'billing' | 'housekeeping' | 'pharmacy';

const SERVICES_DIR = join(__dirname, '..', '..', '..', '..', 'services');

/** The built services; test targets that start them depend on their `build`. */
export const SERVICE_MAINS: { [name in ServiceName]: string } = {
  checkout: join(SERVICES_DIR, 'checkout', 'dist', 'main.js'),
  billing: join(SERVICES_DIR, 'billing', 'dist', 'main.js'),
  housekeeping: join(SERVICES_DIR, 'housekeeping', 'dist', 'main.js'),
  pharmacy: join(SERVICES_DIR, 'pharmacy', 'dist', 'main.js'),
};

/**
 * Runs a built hospital service as its own OS process (configure it through
 * `env`, as in production) and resolves once it logs "<name> listening": its
 * HTTP port is open and, for a consumer, it has joined its group.
 */
export function startService(
  name: ServiceName,
  env: NodeJS.ProcessEnv,
  label: string = name,
): Promise<NodeProcess> {
  return startNodeProcess({
    name: label,
    main: SERVICE_MAINS[name],
    env: { LOG_LEVEL: 'info', ...env },
    readyWhen: (line) => logMessage(line) === `${name} listening`,
  });
}
