import { runService } from '@hospital/nest-broker';
import { startCheckout } from './app';
import { loadCheckoutConfig } from './config';

runService('checkout', () => startCheckout(loadCheckoutConfig()));
