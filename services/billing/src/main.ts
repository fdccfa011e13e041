import { runService } from '@hospital/nest-broker';
import { startBilling } from './app';
import { loadBillingConfig } from './config';

runService('billing', () => startBilling(loadBillingConfig()));
