import type { PatientCheckedOut } from '@hospital/proto';

/** Why an event cannot be billed; undefined when it can. */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (!event.patientId) return 'patient_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (event.chargeLines.length === 0) return 'there are no charge lines';
  if (!event.dischargedAt) return 'discharged_at is missing';
  if (event.chargeLines.some((line) => line.quantity < 1 || !line.unitPrice))
    return 'a charge line has no quantity or price';
  const currencies = [...new Set(event.chargeLines.map((line) => line.unitPrice?.currency ?? ''))];
  if (currencies.includes('')) return 'a charge line has no currency';
  // An invoice totals in one currency: summing USD and EUR minor units would be a wrong bill.
  if (currencies.length > 1)
    return `charge lines mix currencies (${currencies.join(', ')}); an invoice has one currency`;
  return undefined;
}
