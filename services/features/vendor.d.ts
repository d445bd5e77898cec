// Type declarations for small libraries that ship without them.
declare module "murmurhash3js-revisited" {
  const murmur: {
    x86: { hash32(bytes: Uint8Array, seed?: number): number; hash128(bytes: Uint8Array, seed?: number): string };
    x64: { hash128(bytes: Uint8Array, seed?: number): string };
  };
  export default murmur;
}
declare module "cluster-key-slot" {
  /** Redis Cluster hash slot (CRC16 mod 16384, hash tags honoured) of a key. */
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
