/* The shield's proof of work (docs/security.md "The shield"), fetched only when a load is
 * challenged: find a solution whose SHA-256 with the server's nonce starts with `bits` zero
 * bits, then load again with it. Computed here, in the visitor's browser: no third party (P16). */

/**
 * @param {Response} response the 429 answer to a load
 * @param {import("./session.js").Session} session
 * @returns {Promise<import("./session.js").SessionLoad>}
 */
export async function retry(response, session) {
  const data = await response.json().catch(() => ({}));
  const challenge = data.error?.challenge;
  if (!challenge) throw new Error(`session: HTTP ${response.status}`);
  const solution = await solve(challenge.nonce, challenge.bits);
  return session.load({ nonce: challenge.nonce, solution });
}

/** @param {string} nonce @param {number} bits @returns {Promise<string>} */
export async function solve(nonce, bits) {
  const encoder = new TextEncoder();
  for (let counter = 0; ; counter++) {
    const candidate = String(counter);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(nonce + ":" + candidate)));
    if (zeroBits(digest) >= bits) return candidate;
  }
}

/** @param {Uint8Array} digest */
function zeroBits(digest) {
  let bits = 0;
  for (const byte of digest) {
    if (byte) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}
