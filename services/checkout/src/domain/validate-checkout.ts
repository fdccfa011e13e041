import { randomUUID } from 'node:crypto';
import { DischargeDisposition, IsolationPrecaution, type PatientCheckedOut } from '@hospital/proto';
import type { CheckoutRequest, FieldError } from './checkout-request';

const ISOLATION: Record<string, IsolationPrecaution> = {
  none: IsolationPrecaution.ISOLATION_PRECAUTION_NONE,
  contact: IsolationPrecaution.ISOLATION_PRECAUTION_CONTACT,
  droplet: IsolationPrecaution.ISOLATION_PRECAUTION_DROPLET,
  airborne: IsolationPrecaution.ISOLATION_PRECAUTION_AIRBORNE,
};
const DISPOSITION: Record<string, DischargeDisposition> = {
  home: DischargeDisposition.DISCHARGE_DISPOSITION_HOME,
  home_with_care: DischargeDisposition.DISCHARGE_DISPOSITION_HOME_WITH_CARE,
  skilled_nursing: DischargeDisposition.DISCHARGE_DISPOSITION_SKILLED_NURSING,
  transfer: DischargeDisposition.DISCHARGE_DISPOSITION_TRANSFER,
  against_medical_advice: DischargeDisposition.DISCHARGE_DISPOSITION_AGAINST_MEDICAL_ADVICE,
};

type Check = (value: unknown) => string | undefined;
const text =
  (max = 200): Check =>
  (value) =>
    typeof value !== 'string' || value.trim() === ''
      ? 'must be a non-empty string'
      : value.length > max
        ? `must be at most ${max} characters`
        : undefined;
const integer =
  (min: number, max: number): Check =>
  (value) =>
    typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max
      ? `must be an integer from ${min} to ${max}`
      : undefined;
const oneOf =
  (options: object): Check =>
  (value) =>
    typeof value !== 'string' || !(value in options)
      ? `must be one of ${Object.keys(options).join(', ')}`
      : undefined;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks a POST /checkouts body and builds the event. Every problem is
 * reported with its field path ("chargeLines[2].quantity"), not just the first.
 */
export function validateCheckout(
  body: unknown,
  now: Date = new Date(),
): { event: PatientCheckedOut; errors: [] } | { event?: undefined; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const check = (field: string, value: unknown, rule: Check) => {
    const message = rule(value);
    if (message) errors.push({ field, message });
    return message === undefined;
  };
  if (!isObject(body)) return { errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  const request = body as Partial<CheckoutRequest> & Record<string, unknown>;
  if (request.checkoutId !== undefined) check('checkoutId', request.checkoutId, text(64));
  if (request.eventVersion !== undefined)
    check('eventVersion', request.eventVersion, integer(1, Number.MAX_SAFE_INTEGER));
  check('patientId', request.patientId, text(64));
  check('admissionId', request.admissionId, text(64));
  if (!isObject(request.location))
    errors.push({ field: 'location', message: 'must be an object with ward, room and bed' });
  else {
    check('location.ward', request.location.ward, text(32));
    check('location.room', request.location.room, text(16));
    check('location.bed', request.location.bed, text(8));
    if (request.location.isolation !== undefined)
      check('location.isolation', request.location.isolation, oneOf(ISOLATION));
  }
  const dischargedAt =
    typeof request.dischargedAt === 'string' ? new Date(request.dischargedAt) : undefined;
  if (!dischargedAt || Number.isNaN(dischargedAt.getTime()))
    errors.push({ field: 'dischargedAt', message: 'must be an ISO 8601 date-time' });
  else if (dischargedAt.getTime() > now.getTime() + 5 * 60_000)
    errors.push({ field: 'dischargedAt', message: 'must not be in the future' });
  if (!isObject(request.attendingPhysician))
    errors.push({ field: 'attendingPhysician', message: 'must be an object with npi and name' });
  else {
    check('attendingPhysician.npi', request.attendingPhysician.npi, (value) =>
      typeof value === 'string' && /^\d{10}$/.test(value) ? undefined : 'must be a 10-digit NPI',
    );
    check('attendingPhysician.name', request.attendingPhysician.name, text(120));
  }
  if (!Array.isArray(request.chargeLines) || request.chargeLines.length === 0)
    errors.push({ field: 'chargeLines', message: 'must be a non-empty array' });
  else {
    const seen = new Set<number>();
    request.chargeLines.forEach((line: unknown, index) => {
      const at = `chargeLines[${index}]`;
      if (!isObject(line)) return void errors.push({ field: at, message: 'must be an object' });
      const lineNumber = line.lineNumber ?? index + 1;
      if (
        check(`${at}.lineNumber`, lineNumber, integer(1, 10_000)) &&
        seen.has(lineNumber as number)
      )
        errors.push({ field: `${at}.lineNumber`, message: 'must be unique within the checkout' });
      seen.add(lineNumber as number);
      check(`${at}.code`, line.code, text(32));
      check(`${at}.description`, line.description, text(200));
      check(`${at}.quantity`, line.quantity, integer(1, 10_000));
      if (!isObject(line.unitPrice))
        errors.push({
          field: `${at}.unitPrice`,
          message: 'must be an object with currency and minorUnits',
        });
      else {
        check(`${at}.unitPrice.currency`, line.unitPrice.currency, (value) =>
          typeof value === 'string' && /^[A-Z]{3}$/.test(value)
            ? undefined
            : 'must be an ISO 4217 code such as USD',
        );
        check(`${at}.unitPrice.minorUnits`, line.unitPrice.minorUnits, integer(0, 1_000_000_000));
      }
    });
  }
  if (request.dischargeMedications !== undefined && !Array.isArray(request.dischargeMedications))
    errors.push({ field: 'dischargeMedications', message: 'must be an array' });
  (Array.isArray(request.dischargeMedications) ? request.dischargeMedications : []).forEach(
    (medication: unknown, index) => {
      const at = `dischargeMedications[${index}]`;
      if (!isObject(medication))
        return void errors.push({ field: at, message: 'must be an object' });
      check(`${at}.rxnormCode`, medication.rxnormCode, (value) =>
        typeof value === 'string' && /^\d{1,10}$/.test(value)
          ? undefined
          : 'must be an RxNorm concept id (digits)',
      );
      for (const field of ['name', 'dose', 'route', 'frequency'] as const)
        check(`${at}.${field}`, medication[field], text(120));
      check(`${at}.quantity`, medication.quantity, integer(1, 10_000));
      check(`${at}.daysSupply`, medication.daysSupply, integer(1, 365));
    },
  );
  if (request.disposition !== undefined)
    check('disposition', request.disposition, oneOf(DISPOSITION));
  if (errors.length > 0) return { errors };

  const valid = request as CheckoutRequest;
  return {
    errors: [],
    event: {
      eventId: randomUUID(),
      eventVersion: valid.eventVersion ?? 1,
      checkoutId: valid.checkoutId ?? `CO-${randomUUID()}`,
      patientId: valid.patientId,
      admissionId: valid.admissionId,
      location: {
        ward: valid.location.ward,
        room: valid.location.room,
        bed: valid.location.bed,
        isolation: ISOLATION[valid.location.isolation ?? 'none'],
      },
      dischargedAt: dischargedAt as Date,
      attendingPhysician: {
        npi: valid.attendingPhysician.npi,
        name: valid.attendingPhysician.name,
      },
      chargeLines: valid.chargeLines.map((line, index) => ({
        lineNumber: line.lineNumber ?? index + 1,
        code: line.code,
        description: line.description,
        quantity: line.quantity,
        unitPrice: { currency: line.unitPrice.currency, minorUnits: line.unitPrice.minorUnits },
      })),
      dischargeMedications: (valid.dischargeMedications ?? []).map((medication) => ({
        ...medication,
      })),
      disposition: DISPOSITION[valid.disposition ?? 'home'],
      occurredAt: now,
    },
  };
}
