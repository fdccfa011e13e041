import { DischargeDisposition, IsolationPrecaution, PatientCheckedOut } from './index';

function sampleCheckout(): PatientCheckedOut {
  return {
    eventId: '6f1c2a7e-3b8d-4d2e-9a51-0c7f4e2b9d13',
    eventVersion: 3,
    checkoutId: 'CO-2026-000481',
    patientId: 'P-0091827',
    admissionId: 'ADM-55120',
    location: {
      ward: 'CARD-4B',
      room: '412',
      bed: 'B',
      isolation: IsolationPrecaution.ISOLATION_PRECAUTION_CONTACT,
    },
    dischargedAt: new Date('2026-11-21T14:05:09.123Z'),
    attendingPhysician: { npi: '1467503927', name: 'Dr. Amara Okafor' },
    chargeLines: [
      {
        lineNumber: 1,
        code: '99239',
        description: 'Hospital discharge day management, >30 min',
        quantity: 1,
        unitPrice: { currency: 'USD', minorUnits: 21_450 },
      },
      {
        lineNumber: 2,
        code: 'RB-SEMI',
        description: 'Semi-private room and board',
        quantity: 4,
        unitPrice: { currency: 'USD', minorUnits: 187_500 },
      },
    ],
    dischargeMedications: [
      {
        rxnormCode: '197361',
        name: 'Amlodipine',
        dose: '5 mg',
        route: 'oral',
        frequency: 'once daily',
        quantity: 30,
        daysSupply: 30,
      },
    ],
    disposition: DischargeDisposition.DISCHARGE_DISPOSITION_HOME_WITH_CARE,
    occurredAt: new Date('2026-11-21T14:05:10.000Z'),
  };
}

describe('proto/PatientCheckedOut', () => {
  it('round-trips every field through the binary encoder and decoder', () => {
    const event = sampleCheckout();
    const bytes = PatientCheckedOut.encode(event).finish();
    expect(bytes.length).toBeGreaterThan(200);
    expect(PatientCheckedOut.decode(bytes)).toEqual(event);
  });

  it('round-trips through the JSON form used by the CLI and dashboard', () => {
    const event = sampleCheckout();
    const json = PatientCheckedOut.toJSON(event);
    expect(json).toMatchObject({
      checkoutId: 'CO-2026-000481',
      dischargedAt: '2026-11-21T14:05:09.123Z',
    });
    expect(PatientCheckedOut.fromJSON(JSON.parse(JSON.stringify(json)))).toEqual(event);
  });

  it('decodes an empty message to defaults rather than failing', () => {
    const decoded = PatientCheckedOut.decode(new Uint8Array());
    expect(decoded.checkoutId).toBe('');
    expect(decoded.chargeLines).toEqual([]);
    expect(decoded.location).toBeUndefined();
  });

  it('rejects truncated bytes instead of inventing data', () => {
    const bytes = PatientCheckedOut.encode(sampleCheckout()).finish();
    expect(() => PatientCheckedOut.decode(bytes.subarray(0, bytes.length - 7))).toThrow();
  });
});
