import { IsolationPrecaution, type PatientCheckedOut } from '@hospital/proto';
import type { Client } from 'pg';
import type { ConsumerService } from './system';

/**
 * Each schema's rows described as one line per checkout, once from the
 * produced events (stated here independently of the services' code) and once
 * from the database, so the two can be compared by checksum.
 */
export const EXPECTED: { [service in ConsumerService]: (event: PatientCheckedOut) => string } = {
  billing: (event) => {
    const lines = event.chargeLines.map(
      (line) => `${line.code}x${line.quantity}@${line.unitPrice?.minorUnits ?? 0}`,
    );
    const total = event.chargeLines.reduce(
      (sum, line) => sum + line.quantity * (line.unitPrice?.minorUnits ?? 0),
      0,
    );
    return `${event.checkoutId}|v${event.eventVersion}|${event.patientId}|${total}|${lines.join(',')}`;
  },
  housekeeping: (event) => {
    const isolated = [
      IsolationPrecaution.ISOLATION_PRECAUTION_CONTACT,
      IsolationPrecaution.ISOLATION_PRECAUTION_DROPLET,
      IsolationPrecaution.ISOLATION_PRECAUTION_AIRBORNE,
    ].includes(event.location?.isolation ?? IsolationPrecaution.ISOLATION_PRECAUTION_NONE);
    const location = `${event.location?.ward}/${event.location?.room}/${event.location?.bed}`;
    return `${event.checkoutId}|v${event.eventVersion}|${location}|${isolated ? 'deep_clean' : 'standard'}`;
  },
  pharmacy: (event) =>
    `${event.checkoutId}|v${event.eventVersion}|${event.patientId}|${event.dischargeMedications
      .map((medication) => `${medication.rxnormCode}x${medication.quantity}`)
      .join(',')}`,
};

const ACTUAL_SQL: { [service in ConsumerService]: string } = {
  billing: `
    SELECT i.checkout_id || '|v' || i.event_version || '|' || i.patient_id || '|' || i.total_minor || '|' ||
           string_agg(l.code || 'x' || l.quantity || '@' || l.unit_price_minor, ',' ORDER BY l.line_number) AS row
    FROM billing.invoice i JOIN billing.invoice_line l USING (checkout_id)
    GROUP BY i.checkout_id`,
  housekeeping: `
    SELECT checkout_id || '|v' || event_version || '|' || ward || '/' || room || '/' || bed || '|' || priority AS row
    FROM housekeeping.turnover_task`,
  pharmacy: `
    SELECT o.checkout_id || '|v' || o.event_version || '|' || o.patient_id || '|' ||
           coalesce(string_agg(m.rxnorm_code || 'x' || m.quantity, ',' ORDER BY m.line_number), '') AS row
    FROM pharmacy.discharge_order o LEFT JOIN pharmacy.dispensed_medication m USING (checkout_id)
    GROUP BY o.checkout_id`,
};

export async function actualRows(admin: Client, service: ConsumerService): Promise<string[]> {
  return (await admin.query<{ row: string }>(ACTUAL_SQL[service])).rows.map((entry) => entry.row);
}

/** The state every consumer must end in: the newest version of each checkout. */
export function newestVersions(events: PatientCheckedOut[]): PatientCheckedOut[] {
  const newest = new Map<string, PatientCheckedOut>();
  for (const event of events) {
    const current = newest.get(event.checkoutId);
    if (!current || event.eventVersion > current.eventVersion) newest.set(event.checkoutId, event);
  }
  return [...newest.values()];
}
