import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import type { PrismaClient } from './generated/prisma/client';
import { DATABASE } from '@hospital/service-runtime';

/** Housekeeping's read API. */
@Controller()
export class TasksController {
  constructor(@Inject(DATABASE) private readonly prisma: PrismaClient) {}

  @Get('tasks/:checkoutId')
  async task(@Param('checkoutId') checkoutId: string) {
    const task = await this.prisma.turnoverTask.findUnique({ where: { checkoutId } });
    if (!task)
      throw new NotFoundException({
        statusCode: 404,
        message: `no turnover task for checkout ${checkoutId}`,
      });
    return {
      checkoutId: task.checkoutId,
      ward: task.ward,
      room: task.room,
      bed: task.bed,
      priority: task.priority,
      protocol: task.protocol,
      dueBy: task.dueBy.toISOString(),
      eventVersion: Number(task.eventVersion),
    };
  }
}
