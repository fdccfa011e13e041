import type { CheckoutRequest } from './checkout-request';

/** mulberry32: a small seeded PRNG, so a seed replays the same hospital day. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WARDS = [
  { code: 'CARD-4B', rooms: 20, isolationShare: 0.05 },
  { code: 'ONC-6A', rooms: 16, isolationShare: 0.25 },
  { code: 'ORTH-3C', rooms: 24, isolationShare: 0.02 },
  { code: 'ICU-2', rooms: 12, isolationShare: 0.4 },
  { code: 'MAT-5', rooms: 18, isolationShare: 0.03 },
];
const PHYSICIANS = [
  { npi: '1467503927', name: 'Dr. Amara Okafor' },
  { npi: '1285736491', name: 'Dr. Lukas Brenner' },
  { npi: '1093846572', name: 'Dr. Priya Raman' },
  { npi: '1548203967', name: 'Dr. Tomás Herrera' },
];
const CHARGES = [
  { code: '99239', description: 'Hospital discharge day management, >30 min', minorUnits: 21_450 },
  { code: 'RB-SEMI', description: 'Semi-private room and board (per day)', minorUnits: 187_500 },
  { code: '80053', description: 'Comprehensive metabolic panel', minorUnits: 4_820 },
  { code: '71046', description: 'Chest X-ray, 2 views', minorUnits: 12_900 },
  { code: '93000', description: 'Electrocardiogram, complete', minorUnits: 6_150 },
  { code: 'J1100', description: 'Dexamethasone injection, 1 mg', minorUnits: 340 },
];
const MEDICATIONS = [
  {
    rxnormCode: '197361',
    name: 'Amlodipine',
    dose: '5 mg',
    route: 'oral',
    frequency: 'once daily',
  },
  {
    rxnormCode: '310965',
    name: 'Ibuprofen',
    dose: '400 mg',
    route: 'oral',
    frequency: 'every 8 hours as needed',
  },
  {
    rxnormCode: '308182',
    name: 'Amoxicillin',
    dose: '500 mg',
    route: 'oral',
    frequency: 'every 8 hours',
  },
  {
    rxnormCode: '860975',
    name: 'Metformin',
    dose: '500 mg',
    route: 'oral',
    frequency: 'twice daily',
  },
  {
    rxnormCode: '1049621',
    name: 'Oxycodone',
    dose: '5 mg',
    route: 'oral',
    frequency: 'every 6 hours as needed',
  },
];
const ISOLATIONS = ['contact', 'droplet', 'airborne'] as const;
const DISPOSITIONS = [
  'home',
  'home',
  'home',
  'home_with_care',
  'skilled_nursing',
  'transfer',
] as const;

export interface SimulatorOptions {
  /** Size of the patient pool; patients come back, so keyed ordering shows (default 5,000). */
  patients?: number;
  clock?: () => Date;
  /**
   * Share of events that correct a recent checkout (same checkout id, next
   * event version, a late charge added), so consumers must keep the newest
   * version (default 0).
   */
  correctionShare?: number;
}

/** How many recent checkouts a correction can pick from. */
const CORRECTABLE = 200;

/**
 * Generates realistic discharges. The same seed gives the same sequence of
 * checkouts, corrections included.
 */
export class CheckoutSimulator {
  private readonly random: () => number;
  private readonly patients: number;
  private readonly clock: () => Date;
  private readonly correctionShare: number;
  private readonly recent: CheckoutRequest[] = [];
  private sequence = 0;

  constructor(seed: number, options: SimulatorOptions = {}) {
    this.random = seededRandom(seed);
    this.patients = options.patients ?? 5_000;
    this.clock = options.clock ?? (() => new Date());
    this.correctionShare = options.correctionShare ?? 0;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private between(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  next(): CheckoutRequest {
    if (this.recent.length > 0 && this.random() < this.correctionShare) return this.correction();
    const checkout = this.discharge();
    this.recent.push(checkout);
    if (this.recent.length > CORRECTABLE) this.recent.shift();
    return checkout;
  }

  /** A recent checkout again, one version newer, with a late charge (a lab result billed after discharge). */
  private correction(): CheckoutRequest {
    const index = Math.floor(this.random() * this.recent.length);
    const previous = this.recent[index];
    const charge = this.pick(CHARGES.slice(1));
    const lines = previous.chargeLines ?? [];
    const corrected: CheckoutRequest = {
      ...previous,
      eventVersion: (previous.eventVersion ?? 1) + 1,
      chargeLines: [
        ...lines,
        {
          lineNumber: lines.length + 1,
          code: charge.code,
          description: `${charge.description} (late charge)`,
          quantity: 1,
          unitPrice: { currency: 'USD', minorUnits: charge.minorUnits },
        },
      ],
    };
    this.recent[index] = corrected;
    return corrected;
  }

  private discharge(): CheckoutRequest {
    this.sequence++;
    const ward = this.pick(WARDS);
    const patient = this.between(1, this.patients);
    const days = this.between(1, 9);
    const isolated = this.random() < ward.isolationShare;
    const lines = Array.from({ length: this.between(2, 6) }, (_, index) => {
      const charge = index === 0 ? CHARGES[0] : this.pick(CHARGES.slice(1));
      return {
        lineNumber: index + 1,
        code: charge.code,
        description: charge.description,
        quantity: charge.code === 'RB-SEMI' ? days : this.between(1, 3),
        unitPrice: { currency: 'USD', minorUnits: charge.minorUnits },
      };
    });
    const medications = Array.from({ length: this.between(0, 3) }, () => {
      const medication = this.pick(MEDICATIONS);
      const daysSupply = this.between(5, 30);
      return { ...medication, quantity: daysSupply * this.between(1, 3), daysSupply };
    });
    return {
      checkoutId: `CO-${String(this.sequence).padStart(8, '0')}-${Math.floor(this.random() * 1e6).toString(36)}`,
      eventVersion: 1,
      patientId: `P-${String(patient).padStart(7, '0')}`,
      admissionId: `ADM-${this.between(10_000, 99_999)}`,
      location: {
        ward: ward.code,
        room: String(this.between(100, 100 + ward.rooms)),
        bed: this.pick(['A', 'B']),
        isolation: isolated ? this.pick(ISOLATIONS) : 'none',
      },
      dischargedAt: this.clock().toISOString(),
      attendingPhysician: this.pick(PHYSICIANS),
      chargeLines: lines,
      dischargeMedications: medications,
      disposition: this.pick(DISPOSITIONS),
    };
  }
}
