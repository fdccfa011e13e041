import { runService } from '@hospital/service-runtime';
import { startCheckout } from './app';
import { loadCheckoutConfig } from './config';

runService('checkout', () => startCheckout(loadCheckoutConfig()));
