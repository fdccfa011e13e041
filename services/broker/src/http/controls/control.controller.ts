import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  HttpException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import type { ReplicasAnswer } from '@hospital/admin-api';
import { AdminTokenGuard } from '../admin-token.guard';
import { ReplicaControls } from './replica-controls';

/** Most replicas one group may be scaled to from the dashboard. */
export const MAX_REPLICAS = 16;

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

function name(value: string, field: string): string {
  if (!NAME.test(value))
    throw new BadRequestException({
      message: `${field} must be lowercase letters, digits and dashes, got "${value}"`,
      field,
    });
  return value;
}

/** The dashboard's scale, kill and restart buttons, relayed to the process supervisor. */
@Controller('api')
@UseGuards(AdminTokenGuard)
export class ControlController {
  constructor(private readonly supervisor: ReplicaControls) {}

  @Post('groups/:group/scale')
  @HttpCode(200)
  scale(@Param('group') group: string, @Body() body: unknown): Promise<ReplicasAnswer> {
    const replicas = (body as { replicas?: unknown } | undefined)?.replicas;
    if (
      typeof replicas !== 'number' ||
      !Number.isInteger(replicas) ||
      replicas < 0 ||
      replicas > MAX_REPLICAS
    )
      throw new BadRequestException({
        message: `replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${JSON.stringify(replicas)}`,
        field: 'replicas',
      });
    return this.relay(`/groups/${name(group, 'group')}/scale`, { replicas });
  }

  /** Rolls the group's replicas onto these assignors, one at a time (the supervisor keeps the old one listed second). */
  @Post('groups/:group/assignors')
  @HttpCode(200)
  assignors(@Param('group') group: string, @Body() body: unknown): Promise<ReplicasAnswer> {
    const assignors = (body as { assignors?: unknown } | undefined)?.assignors;
    if (
      !Array.isArray(assignors) ||
      assignors.length === 0 ||
      assignors.length > 4 ||
      assignors.some((name) => typeof name !== 'string' || !NAME.test(name))
    )
      throw new BadRequestException({
        message: `assignors must be a list of 1 to 4 assignor names, got ${JSON.stringify(assignors)}`,
        field: 'assignors',
      });
    return this.relay(`/groups/${name(group, 'group')}/assignors`, { assignors });
  }

  @Post('replicas/:name/kill')
  @HttpCode(200)
  kill(@Param('name') replica: string): Promise<ReplicasAnswer> {
    return this.relay(`/replicas/${name(replica, 'name')}/kill`);
  }

  @Post('replicas/:name/restart')
  @HttpCode(200)
  restart(@Param('name') replica: string): Promise<ReplicasAnswer> {
    return this.relay(`/replicas/${name(replica, 'name')}/restart`);
  }

  /** The supervisor's answer, its errors passed on with their status. */
  private async relay(path: string, body?: unknown): Promise<ReplicasAnswer> {
    const answer = await this.supervisor.command(path, body);
    if ('replicas' in answer.body && answer.status < 300) return answer.body;
    throw new HttpException(answer.body, answer.status);
  }
}
