// Security keys and passkeys: the gateway sends the `publicKey` options as JSON with
// base64url binary fields; the browser API wants ArrayBuffers, and the answer goes back as JSON
// with base64url fields again.

export function supported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

function fromB64url(value) {
  const b64 = String(value).replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

function toB64url(buffer) {
  if (!buffer) return null;
  const bytes = new Uint8Array(buffer);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function credentialList(list) {
  return (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));
}

/** Options of navigator.credentials.create() from the gateway's `publicKey` JSON. */
export function creationOptions(publicKey) {
  const options = { ...publicKey, challenge: fromB64url(publicKey.challenge) };
  if (publicKey.user) options.user = { ...publicKey.user, id: fromB64url(publicKey.user.id) };
  if (publicKey.excludeCredentials) options.excludeCredentials = credentialList(publicKey.excludeCredentials);
  return options;
}

/** Options of navigator.credentials.get() from the gateway's `publicKey` JSON. */
export function requestOptions(publicKey) {
  const options = { ...publicKey, challenge: fromB64url(publicKey.challenge) };
  if (publicKey.allowCredentials) options.allowCredentials = credentialList(publicKey.allowCredentials);
  return options;
}

function extensions(credential) {
  try {
    return credential.getClientExtensionResults() || {};
  } catch {
    return {};
  }
}

/** Registers a new key; resolves with the JSON the verify endpoint takes as `credential`. */
export async function create(publicKey) {
  const credential = await navigator.credentials.create({ publicKey: creationOptions(publicKey) });
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: toB64url(r.attestationObject),
      clientDataJSON: toB64url(r.clientDataJSON),
      // Only the transports every relying party library knows.
      ...(typeof r.getTransports === 'function'
        ? { transports: r.getTransports().filter((t) => ['usb', 'nfc', 'ble', 'internal', 'hybrid'].includes(t)) }
        : {}),
    },
    extensions: extensions(credential),
  };
}

/** Whether the browser offers passkeys in the user name field's autofill (conditional UI). */
export async function conditionalAvailable() {
  try {
    return supported() && typeof PublicKeyCredential.isConditionalMediationAvailable === 'function'
      && await PublicKeyCredential.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

/**
 * Signs a sign-in challenge; resolves with the JSON `/auth/mfa` and `/auth/passkey` take as
 * `assertion`. `request` adds `mediation` ('conditional': the autofill offers passkeys) and an
 * abort `signal`.
 */
export async function assert(publicKey, request = {}) {
  const credential = await navigator.credentials.get({ ...request, publicKey: requestOptions(publicKey) });
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: toB64url(r.userHandle),
    },
    extensions: extensions(credential),
  };
}
