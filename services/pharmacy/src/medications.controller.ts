import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import type { PrismaClient } from './generated/prisma/client';
import { DATABASE } from '@hospital/service-runtime';

/** Pharmacy's read API. */
@Controller()
export class MedicationsController {
  constructor(@Inject(DATABASE) private readonly prisma: PrismaClient) {}

  @Get('checkouts/:checkoutId/medications')
  async medications(@Param('checkoutId') checkoutId: string) {
    const order = await this.prisma.dischargeOrder.findUnique({
      where: { checkoutId },
      include: { medications: { orderBy: { lineNumber: 'asc' } } },
    });
    if (!order)
      throw new NotFoundException({
        statusCode: 404,
        message: `no discharge order for checkout ${checkoutId}`,
      });
    return {
      checkoutId: order.checkoutId,
      patientId: order.patientId,
      eventVersion: Number(order.eventVersion),
      medications: order.medications.map(
        ({ rxnormCode, name, dose, route, frequency, quantity, daysSupply }) => ({
          rxnormCode,
          name,
          dose,
          route,
          frequency,
          quantity,
          daysSupply,
        }),
      ),
    };
  }
}
