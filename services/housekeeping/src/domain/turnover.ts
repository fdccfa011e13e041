import { IsolationPrecaution, type PatientCheckedOut } from '@hospital/proto';

export interface Turnover {
  priority: 'deep_clean' | 'standard';
  protocol: string;
  dueBy: Date;
}

const HOUR = 3_600_000;

/**
 * The cleaning a discharged bed needs: isolation rooms get a deep (terminal)
 * clean under their precaution's protocol and an earlier deadline; any other
 * room gets a standard turnover within two hours.
 */
export function turnoverFor(event: PatientCheckedOut): Turnover {
  const dischargedAt = event.dischargedAt ?? new Date(0);
  switch (event.location?.isolation) {
    case IsolationPrecaution.ISOLATION_PRECAUTION_AIRBORNE:
      return {
        priority: 'deep_clean',
        protocol: 'airborne: air changes before entry, terminal clean, UV-C',
        dueBy: new Date(dischargedAt.getTime() + HOUR),
      };
    case IsolationPrecaution.ISOLATION_PRECAUTION_DROPLET:
      return {
        priority: 'deep_clean',
        protocol: 'droplet: terminal clean, change privacy curtains',
        dueBy: new Date(dischargedAt.getTime() + HOUR),
      };
    case IsolationPrecaution.ISOLATION_PRECAUTION_CONTACT:
      return {
        priority: 'deep_clean',
        protocol: 'contact: terminal clean with sporicidal agent',
        dueBy: new Date(dischargedAt.getTime() + HOUR),
      };
    default:
      return {
        priority: 'standard',
        protocol: 'standard: clean and make up the bed',
        dueBy: new Date(dischargedAt.getTime() + 2 * HOUR),
      };
  }
}
