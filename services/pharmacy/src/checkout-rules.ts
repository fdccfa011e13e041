import type { PatientCheckedOut } from '@hospital/proto';

/** Why pharmacy cannot take the event; a checkout without medications is fine (nothing to dispense). */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (!event.patientId) return 'patient_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (
    event.dischargeMedications.some(
      (medication) => !medication.rxnormCode || medication.quantity < 1,
    )
  )
    return 'a discharge medication has no RxNorm code or quantity';
  return undefined;
}
