import type { IncomingMessage } from 'node:http';
import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { presentsAdminToken } from '@hospital/proto';
import { Broker } from '../broker';

/** The dashboard's buttons kill processes: they need the broker's admin token, as a Bearer header. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(private readonly broker: Broker) {}

  canActivate(context: ExecutionContext): boolean {
    const adminToken = this.broker.config.adminToken;
    if (!adminToken)
      throw new ForbiddenException(
        'no admin token is configured on this broker (set BROKER_ADMIN_TOKEN), so its controls are off',
      );
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    if (!presentsAdminToken(request.headers.authorization, adminToken))
      throw new UnauthorizedException('this needs the admin token: authorization: Bearer <token>');
    return true;
  }
}
