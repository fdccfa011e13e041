import { runService } from '@hospital/service-runtime';
import { startBilling } from './app';
import { loadBillingConfig } from './config';

runService('billing', () => startBilling(loadBillingConfig()));
