// Type declarations for small libraries that ship without them.
declare module "murmurhash3js-revisited" {
  const murmur: {
    x86: { hash32(bytes: Uint8Array, seed?: number): number; hash128(bytes: Uint8Array, seed?: number): string };
    x64: { hash128(bytes: Uint8Array, seed?: number): string };
  };
  export default murmur;
}
