import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino, { type Logger } from 'pino';
import { CheckoutModule } from './app.module';
import type { CheckoutConfig } from './config';

/** Builds and starts the checkout HTTP app; closing it closes the producer (flushing it). */
export async function startCheckout(
  config: CheckoutConfig,
  logger: Logger = pino({ name: 'checkout', level: config.logLevel }),
): Promise<INestApplication> {
  const app = await NestFactory.create(CheckoutModule.forConfig(config, logger), {
    logger: false,
    bodyParser: true,
  });
  await app.listen(config.port, config.host);
  logger.info(
    { url: await app.getUrl(), broker: config.broker, topic: config.topic },
    'checkout listening',
  );
  return app;
}
