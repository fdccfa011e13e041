import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { CheckoutPublisher } from './checkout.publisher';
import type { CheckoutConfig } from './config';
import { CheckoutSimulator } from './domain/simulator';
import { validateCheckout } from './domain/validate-checkout';
import { CHECKOUT_CONFIG, LOGGER } from './tokens';

const TICK_MS = 100;
/**
 * Most events one tick publishes: after an outage the simulator owes a
 * backlog, and catches up with bounded calls instead of one giant send.
 */
const MAX_EVENTS_PER_TICK = 2_000;

/** Emits simulated discharges at SIMULATOR_RATE per second, in ticks of 100 ms. */
@Injectable()
export class SimulatorRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private owed = 0;
  private sending = false;

  constructor(
    private readonly publisher: CheckoutPublisher,
    @Inject(CHECKOUT_CONFIG) private readonly config: CheckoutConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.simulatorRate <= 0) return;
    const simulator = new CheckoutSimulator(this.config.simulatorSeed, {
      patients: this.config.simulatorPatients,
      correctionShare: this.config.simulatorCorrections,
    });
    const limit = this.config.simulatorLimit > 0 ? this.config.simulatorLimit : Infinity;
    let emitted = 0;
    this.logger.info(
      {
        rate: this.config.simulatorRate,
        seed: this.config.simulatorSeed,
        limit: this.config.simulatorLimit || undefined,
      },
      'simulator started',
    );
    this.timer = setInterval(() => {
      this.owed += (this.config.simulatorRate * TICK_MS) / 1000;
      if (this.sending || this.owed < 1) return;
      const count = Math.min(Math.floor(this.owed), limit - emitted, MAX_EVENTS_PER_TICK);
      this.owed -= count;
      emitted += count;
      const events = Array.from(
        { length: count },
        () => validateCheckout(simulator.next()).event,
      ).filter((event) => event !== undefined);
      this.sending = true;
      this.publisher
        .publish(events, 'simulator')
        .then(
          () => {
            if (emitted < limit) return;
            clearInterval(this.timer);
            this.logger.info({ emitted }, 'simulator finished');
          },
          (error: unknown) => {
            // Not published: owed again, so the limit still counts only what landed.
            emitted -= count;
            this.owed += count;
            this.logger.warn({ err: error }, 'simulated checkouts not published; will keep trying');
          },
        )
        .finally(() => (this.sending = false));
    }, TICK_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
