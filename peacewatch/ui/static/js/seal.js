// Sealing what the outbox keeps (WebCrypto), so that the browser's storage alone reveals nothing of a report: not
// to another user of the device, not to whoever takes it. Each page makes a pair of its own when it opens (its
// private half never stored) and derives an AES-GCM key with its user's public key, which the device keeps; what
// the page seals it can open itself while it lives. What an earlier page sealed opens with the user's private key,
// which the server gives only to its signed-in user (access/outbox_keys.py holds the same scheme: ECDH P-256,
// HKDF-SHA-256 with INFO, AES-GCM).

const CURVE = { name: "ECDH", namedCurve: "P-256" };
const INFO = new TextEncoder().encode("peacewatch outbox");

async function aesKey(privateKey, publicKey) {
  const bits = await crypto.subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  const hkdf = await crypto.subtle.importKey("raw", bits, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: INFO }, hkdf,
                                 { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** A page's own sealing key for ``userJwk`` (the user's public key): {epk, key}. */
export async function sealer(userJwk) {
  const { kty, crv, x, y } = userJwk;
  const user = await crypto.subtle.importKey("jwk", { kty, crv, x, y, ext: true }, CURVE, true, []);
  const pair = await crypto.subtle.generateKey(CURVE, false, ["deriveBits"]);
  const epk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { epk: { kty: epk.kty, crv: epk.crv, x: epk.x, y: epk.y }, key: await aesKey(pair.privateKey, user) };
}

/** ``bytes`` (an ArrayBuffer or a typed array) sealed: {iv, data}. */
export async function seal(own, bytes) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, data: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, own.key, bytes) };
}

/** An opener with the user's private key (``privateJwk``, or null while the server has not given it in this page's
 * life) and the page's own sealer: opens what either can, null for the rest. */
export function opener(privateJwk, own) {
  const keys = new Map(); // a page's public key (its x) -> its AES key
  if (own) keys.set(own.epk.x, Promise.resolve(own.key));
  const user = privateJwk ? crypto.subtle.importKey("jwk", privateJwk, CURVE, false, ["deriveBits"]) : null;
  return async (epk, iv, data) => {
    if (!keys.has(epk.x)) {
      if (!user) return null;
      keys.set(epk.x, crypto.subtle.importKey("jwk", { ...epk, ext: true }, CURVE, true, []).then(async (page) => aesKey(await user, page)));
    }
    try {
      return await crypto.subtle.decrypt({ name: "AES-GCM", iv }, await keys.get(epk.x), data);
    } catch {
      return null; // sealed to another user's key, or changed
    }
  };
}
