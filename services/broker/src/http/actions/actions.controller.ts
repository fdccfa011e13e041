import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import type { OffsetChange, ResetOffsetsTarget, TopicDescription } from '@hospital/proto';
import { Broker } from '../../broker';
import { AdminTokenGuard } from '../admin-token.guard';
import { toHttpError } from './broker-http-error';

/** Most partitions a topic may be grown to from the dashboard. */
export const MAX_DASHBOARD_PARTITIONS = 64;

const bad = (field: string, problem: string) =>
  new BadRequestException({ message: `${field} ${problem}`, field });

function wholeNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw bad(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

/** The dashboard's form for a reset target: one of the kafka-consumer-groups --to-* options. */
function resetTarget(body: {
  to?: unknown;
  offset?: unknown;
  shiftBy?: unknown;
}): ResetOffsetsTarget {
  switch (body.to) {
    case 'earliest':
      return { target: { $case: 'earliest', value: true } };
    case 'latest':
      return { target: { $case: 'latest', value: true } };
    case 'offset':
      return {
        target: {
          $case: 'offset',
          value: wholeNumber(body.offset, 'offset', 0, Number.MAX_SAFE_INTEGER),
        },
      };
    case 'shift-by':
      return {
        target: {
          $case: 'shiftBy',
          value: wholeNumber(
            body.shiftBy,
            'shiftBy',
            -Number.MAX_SAFE_INTEGER,
            Number.MAX_SAFE_INTEGER,
          ),
        },
      };
    default:
      throw bad(
        'to',
        `must be earliest, latest, offset or shift-by, got ${JSON.stringify(body.to)}`,
      );
  }
}

/** The dashboard's broker actions: grow a topic, reset a stopped group's offsets (with a dry run). */
@Controller('api')
@UseGuards(AdminTokenGuard)
export class ActionsController {
  constructor(private readonly broker: Broker) {}

  @Post('topics/:topic/partitions')
  @HttpCode(200)
  addPartitions(@Param('topic') topic: string, @Body() body: unknown): TopicDescription {
    const partitions = wholeNumber(
      (body as { partitions?: unknown } | undefined)?.partitions,
      'partitions',
      1,
      MAX_DASHBOARD_PARTITIONS,
    );
    try {
      return this.broker.topics.createPartitions({ name: topic, totalPartitions: partitions })
        .topic as TopicDescription;
    } catch (error) {
      throw toHttpError(error, { total_partitions: 'partitions', name: 'topic' });
    }
  }

  @Post('groups/:group/reset-offsets')
  @HttpCode(200)
  async resetOffsets(
    @Param('group') group: string,
    @Body() body: unknown,
  ): Promise<{ dryRun: boolean; changes: OffsetChange[] }> {
    const form = (body ?? {}) as { topic?: unknown; dryRun?: unknown; to?: unknown };
    if (typeof form.topic !== 'string' || form.topic === '') throw bad('topic', 'is required');
    if (form.dryRun !== undefined && typeof form.dryRun !== 'boolean')
      throw bad('dryRun', 'must be true or false');
    const dryRun = form.dryRun ?? true;
    try {
      const { changes } = await this.broker.coordinator.resetOffsets({
        groupId: group,
        topic: form.topic,
        partitions: [],
        target: resetTarget(form),
        dryRun,
      });
      return { dryRun, changes };
    } catch (error) {
      throw toHttpError(error, { group_id: 'group' });
    }
  }
}
