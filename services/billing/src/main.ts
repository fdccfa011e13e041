import pino from 'pino';
import { startBilling } from './app';
import { loadBillingConfig } from './config';

async function main(): Promise<void> {
  const billing = await startBilling(loadBillingConfig());
  const stop = () => void billing.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  pino({ name: 'billing' }).fatal({ err: error }, 'billing failed to start');
  process.exit(1);
});
