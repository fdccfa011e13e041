import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ProducerBufferFullError } from '@hospital/broker-client';
import { validateCheckout } from './domain/validate-checkout';
import { CheckoutMetrics } from './metrics';
import { CheckoutPublisher, type Published } from './checkout.publisher';

@Controller()
export class CheckoutController {
  constructor(
    private readonly publisher: CheckoutPublisher,
    private readonly metrics: CheckoutMetrics,
  ) {}

  /** 202 once the broker acknowledged the event; 400 naming each bad field, and nothing published. */
  @Post('checkouts')
  @HttpCode(202)
  async checkout(@Body() body: unknown): Promise<Published> {
    const { event, errors } = validateCheckout(body);
    if (!event) {
      this.metrics.rejected.inc();
      throw new BadRequestException({ statusCode: 400, message: 'invalid checkout', errors });
    }
    try {
      const [published] = await this.publisher.publish([event], 'api');
      return published;
    } catch (error) {
      const full = error instanceof ProducerBufferFullError;
      throw new ServiceUnavailableException({
        statusCode: 503,
        message: full
          ? `checkout cannot take more events now; retry later: ${error.message}`
          : `the broker did not take the event: ${(error as Error).message}`,
        reason: full ? 'PRODUCER_BUFFER_FULL' : (error as { reasonName?: string }).reasonName,
      });
    }
  }

  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
