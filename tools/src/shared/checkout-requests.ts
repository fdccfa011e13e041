import { request as httpRequest, type Agent } from 'node:http';

/** A valid checkout body for POST /checkouts. */
export function checkoutBody(sequence: number, idPrefix = 'BENCH'): string {
  return JSON.stringify({
    checkoutId: `${idPrefix}-${sequence}`,
    patientId: `P-${String(sequence % 5_000).padStart(7, '0')}`,
    admissionId: `ADM-${10_000 + sequence}`,
    location: { ward: 'CARD-4B', room: String(400 + (sequence % 20)), bed: 'A', isolation: 'none' },
    dischargedAt: new Date().toISOString(),
    attendingPhysician: { npi: '1467503927', name: 'Dr. Amara Okafor' },
    chargeLines: [
      {
        lineNumber: 1,
        code: '99239',
        description: 'Hospital discharge day management',
        quantity: 1,
        unitPrice: { currency: 'USD', minorUnits: 21_450 },
      },
      {
        lineNumber: 2,
        code: 'RB-SEMI',
        description: 'Semi-private room and board',
        quantity: 3,
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
    disposition: 'home',
  });
}

/** POSTs a JSON body (keep-alive through the agent); resolves with the status and text. */
export function postJson(
  agent: Agent,
  url: URL,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
