// @ts-check
// The dashboard's admin actions: every one posts JSON with the admin token
// and shows the answer, or the broker's reason and the field it names.

import { byId } from './dom.js';

export const TOKEN_KEY = 'hospital.adminToken';

export function token() {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

/** @param {string} text @param {boolean} [failed] */
export function say(text, failed = false) {
  const message = byId('message');
  message.textContent = text;
  message.hidden = false;
  message.dataset.failed = String(failed);
}

/**
 * Posts a command; resolves with the answer, or undefined after saying why it failed.
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function command(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify(body ?? {}),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = answer.error ?? answer.message ?? response.statusText;
    const field = answer.field ? ` [field: ${answer.field}]` : '';
    say(`${path}: ${Array.isArray(reason) ? reason.join('; ') : reason}${field}`, true);
    if (response.status === 401 || response.status === 403) byId('token-form').hidden = false;
    return undefined;
  }
  say(`${path}: done`);
  return answer;
}
