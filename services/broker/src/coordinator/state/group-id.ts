import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';

/** Kafka's strings carry an int16 length: a longer group id could never be named by a Kafka client, nor listed to one. */
export const MAX_GROUP_ID_BYTES = 32_767;

/** The one check of a group id, wherever a request may create or change a group. */
export function validateGroupId(groupId: string): void {
  if (!groupId)
    throw new BrokerError(ErrorReason.INVALID_GROUP_ID, 'group_id must not be empty', {
      field: 'group_id',
    });
  const bytes = Buffer.byteLength(groupId, 'utf8');
  if (bytes > MAX_GROUP_ID_BYTES)
    throw new BrokerError(
      ErrorReason.INVALID_GROUP_ID,
      `group_id is ${bytes} bytes; at most ${MAX_GROUP_ID_BYTES} (Kafka's string limit)`,
      { field: 'group_id' },
    );
}
