/** The JSON body of POST /checkouts. */
export interface CheckoutRequest {
  /** Natural key; generated when absent. */
  checkoutId?: string;
  /** Revision of this checkout (default 1); a correction sends a higher one. */
  eventVersion?: number;
  patientId: string;
  admissionId: string;
  location: {
    ward: string;
    room: string;
    bed: string;
    isolation?: 'none' | 'contact' | 'droplet' | 'airborne';
  };
  /** ISO 8601 time. */
  dischargedAt: string;
  attendingPhysician: { npi: string; name: string };
  chargeLines: {
    lineNumber?: number;
    code: string;
    description: string;
    quantity: number;
    unitPrice: { currency: string; minorUnits: number };
  }[];
  dischargeMedications?: {
    rxnormCode: string;
    name: string;
    dose: string;
    route: string;
    frequency: string;
    quantity: number;
    daysSupply: number;
  }[];
  disposition?:
    'home' | 'home_with_care' | 'skilled_nursing' | 'transfer' | 'against_medical_advice';
}

export interface FieldError {
  field: string;
  message: string;
}
