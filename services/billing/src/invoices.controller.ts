import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import type { PrismaClient } from './generated/prisma/client';
import { DATABASE } from '@hospital/service-runtime';

/** Billing's read API. */
@Controller()
export class InvoicesController {
  constructor(@Inject(DATABASE) private readonly prisma: PrismaClient) {}

  @Get('invoices/:checkoutId')
  async invoice(@Param('checkoutId') checkoutId: string) {
    const invoice = await this.prisma.invoice.findUnique({
      where: { checkoutId },
      include: { lines: { orderBy: { lineNumber: 'asc' } } },
    });
    if (!invoice)
      throw new NotFoundException({
        statusCode: 404,
        message: `no invoice for checkout ${checkoutId}`,
      });
    return {
      checkoutId: invoice.checkoutId,
      patientId: invoice.patientId,
      eventVersion: Number(invoice.eventVersion),
      currency: invoice.currency,
      totalMinor: Number(invoice.totalMinor),
      lines: invoice.lines.map((line) => ({
        lineNumber: line.lineNumber,
        code: line.code,
        quantity: line.quantity,
        amountMinor: Number(line.amountMinor),
      })),
    };
  }
}
