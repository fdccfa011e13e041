import type { PatientCheckedOut } from '@hospital/proto';

/** Why housekeeping cannot take the event: it needs the bed that was freed. */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (!event.location?.ward || !event.location.room || !event.location.bed)
    return 'location (ward, room, bed) is missing';
  return undefined;
}
