import type { PatientCheckedOut } from '@hospital/proto';

/** Why an event cannot be billed; undefined when it can. */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (!event.patientId) return 'patient_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (event.chargeLines.length === 0) return 'there are no charge lines';
  if (event.chargeLines.some((line) => line.quantity < 1 || !line.unitPrice))
    return 'a charge line has no quantity or price';
  return undefined;
}
