import type { PatientCheckedOut } from '@hospital/proto';
import { rejectionReason } from './checkout-rules';

const line = (lineNumber: number, currency: string, minorUnits = 1_000) => ({
  lineNumber,
  code: `C${lineNumber}`,
  description: 'room',
  quantity: 1,
  unitPrice: { currency, minorUnits },
});

const checkout = (overrides: Partial<PatientCheckedOut> = {}): PatientCheckedOut =>
  ({
    eventId: 'e-1',
    checkoutId: 'co-1',
    patientId: 'p-1',
    admissionId: 'a-1',
    eventVersion: 1,
    dischargedAt: new Date('2026-11-30T10:00:00Z'),
    chargeLines: [line(1, 'USD'), line(2, 'USD')],
    ...overrides,
  }) as PatientCheckedOut;

describe('billing/checkout-rules', () => {
  it('bills a checkout whose lines share one currency', () => {
    expect(rejectionReason(checkout())).toBeUndefined();
  });

  it.each([
    [
      'mixed currencies',
      { chargeLines: [line(1, 'USD'), line(2, 'EUR')] },
      'charge lines mix currencies (USD, EUR); an invoice has one currency',
    ],
    ['a line without currency', { chargeLines: [line(1, '')] }, 'a charge line has no currency'],
    ['no discharge time', { dischargedAt: undefined }, 'discharged_at is missing'],
    ['no charge lines', { chargeLines: [] }, 'there are no charge lines'],
  ])('rejects %s with the reason the DLQ records', (_case, overrides, reason) => {
    expect(rejectionReason(checkout(overrides as Partial<PatientCheckedOut>))).toBe(reason);
  });
});
