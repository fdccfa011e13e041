import { IsolationPrecaution, PatientCheckedOut } from '@hospital/proto';
import { CheckoutSimulator } from './simulator';
import { validateCheckout } from './validate-checkout';

const NOW = new Date('2026-11-21T15:00:00Z');
const clock = () => NOW;

describe('checkout/domain', () => {
  describe('validateCheckout', () => {
    it('builds the PatientCheckedOut event from a valid body', () => {
      const body = new CheckoutSimulator(7, { patients: 100, clock }).next();
      const { event, errors } = validateCheckout(body, NOW);
      expect(errors).toEqual([]);
      expect(event).toMatchObject({
        checkoutId: body.checkoutId,
        patientId: body.patientId,
        eventVersion: 1,
        dischargedAt: NOW,
      });
      expect(event!.chargeLines).toHaveLength(body.chargeLines.length);
      expect(PatientCheckedOut.decode(PatientCheckedOut.encode(event!).finish())).toEqual(event);
    });

    it('names every bad field, not just the first', () => {
      const body = {
        ...new CheckoutSimulator(7, { patients: 100, clock }).next(),
        patientId: '',
        location: { ward: 'CARD-4B', room: '', bed: 'A', isolation: 'sometimes' },
        dischargedAt: 'yesterday',
        attendingPhysician: { npi: '12', name: 'Dr. X' },
        chargeLines: [
          {
            code: '99239',
            description: 'x',
            quantity: 0,
            unitPrice: { currency: 'usd', minorUnits: -1 },
          },
        ],
        dischargeMedications: [
          {
            rxnormCode: 'abc',
            name: 'n',
            dose: 'd',
            route: 'r',
            frequency: 'f',
            quantity: 1,
            daysSupply: 400,
          },
        ],
      };
      expect(validateCheckout(body, NOW).errors.map((error) => error.field)).toEqual([
        'patientId',
        'location.room',
        'location.isolation',
        'dischargedAt',
        'attendingPhysician.npi',
        'chargeLines[0].quantity',
        'chargeLines[0].unitPrice.currency',
        'chargeLines[0].unitPrice.minorUnits',
        'dischargeMedications[0].rxnormCode',
        'dischargeMedications[0].daysSupply',
      ]);
    });

    it.each([
      ['a non-object body', 'checkout', '(body)'],
      ['no charge lines', { ...new CheckoutSimulator(1).next(), chargeLines: [] }, 'chargeLines'],
      [
        'duplicate line numbers',
        {
          ...new CheckoutSimulator(1).next(),
          chargeLines: [
            {
              lineNumber: 1,
              code: 'a',
              description: 'b',
              quantity: 1,
              unitPrice: { currency: 'USD', minorUnits: 1 },
            },
            {
              lineNumber: 1,
              code: 'a',
              description: 'b',
              quantity: 1,
              unitPrice: { currency: 'USD', minorUnits: 1 },
            },
          ],
        },
        'chargeLines[1].lineNumber',
      ],
      [
        'a discharge in the future',
        { ...new CheckoutSimulator(1).next(), dischargedAt: '2030-01-01T00:00:00Z' },
        'dischargedAt',
      ],
    ])('rejects %s', (_title, body, field) => {
      expect(validateCheckout(body, NOW).errors.map((error) => error.field)).toContain(field);
    });
  });

  describe('CheckoutSimulator', () => {
    it('replays the same checkouts from the same seed', () => {
      const a = new CheckoutSimulator(42, { patients: 500, clock });
      const b = new CheckoutSimulator(42, { patients: 500, clock });
      const c = new CheckoutSimulator(43, { patients: 500, clock });
      const first = Array.from({ length: 50 }, () => a.next());
      expect(Array.from({ length: 50 }, () => b.next())).toEqual(first);
      expect(Array.from({ length: 50 }, () => c.next())).not.toEqual(first);
    });

    it('only produces checkouts that validate, with returning patients and some isolation rooms', () => {
      const simulator = new CheckoutSimulator(3, { patients: 300, clock });
      const events = Array.from({ length: 2_000 }, () => validateCheckout(simulator.next(), NOW));
      expect(events.flatMap((result) => result.errors)).toEqual([]);
      const patients = new Set(events.map((result) => result.event!.patientId));
      expect(patients.size).toBeLessThan(2_000);
      expect(
        events.some(
          (result) =>
            result.event!.location!.isolation !== IsolationPrecaution.ISOLATION_PRECAUTION_NONE,
        ),
      ).toBe(true);
      expect(new Set(events.map((result) => result.event!.checkoutId)).size).toBe(2_000);
    });

    it('corrects recent checkouts with the next version, same patient, and a late charge', () => {
      const simulator = new CheckoutSimulator(9, { patients: 300, clock, correctionShare: 0.1 });
      const requests = Array.from({ length: 2_000 }, () => simulator.next());
      const latest = new Map<string, (typeof requests)[number]>();
      let corrections = 0;
      for (const request of requests) {
        expect(validateCheckout(request, NOW).errors).toEqual([]);
        const id = request.checkoutId ?? '';
        const previous = latest.get(id);
        if (previous) {
          corrections++;
          expect(request.eventVersion).toBe((previous.eventVersion ?? 1) + 1);
          expect(request.patientId).toBe(previous.patientId);
          expect(request.chargeLines.slice(0, -1)).toEqual(previous.chargeLines);
          expect(request.chargeLines.at(-1)?.description).toMatch(/late charge/);
        }
        latest.set(id, request);
      }
      expect(corrections).toBeGreaterThan(100);
      expect(corrections).toBeLessThan(300);
    });
  });
});
