/**
 * A random (v4) UUID for `Idempotency-Key`. `crypto.randomUUID` exists only in secure contexts
 * (https, localhost); `getRandomValues` exists everywhere.
 */
export function newUuid(cryptoImpl: Pick<Crypto, "getRandomValues"> = crypto): string {
  const bytes = cryptoImpl.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
