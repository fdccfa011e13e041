import pino from 'pino';
import { startCheckout } from './app';
import { loadCheckoutConfig } from './config';

startCheckout(loadCheckoutConfig()).catch((error: unknown) => {
  pino({ name: 'checkout' }).fatal({ err: error }, 'checkout failed to start');
  process.exit(1);
});
