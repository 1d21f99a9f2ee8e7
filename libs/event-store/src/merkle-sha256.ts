/**
 * SHA-256 (FIPS 180-4) of the two fixed-size inputs of the store's Merkle tree, on 32-bit words in typed arrays:
 *
 *   leaf = SHA-256(0x00 || 32-byte chain hash)   (33 bytes: one 64-byte block)
 *   node = SHA-256(0x01 || left || right)        (65 bytes: two blocks)
 *
 * Why not node:crypto here: each call into OpenSSL costs ≈ 2 µs of call overhead for these few bytes (the
 * compression itself, with SHA-NI, is a fraction of that), and the tree hashes 1 + 2 blocks per appended event. One
 * block compressed in JavaScript costs ≈ 0.45–0.9 µs (depending on the machine's load) and allocates nothing; four at
 * once in WebAssembly SIMD (below) ≈ 0.13 µs per block. The padding is fixed because the lengths are, so it is written
 * in directly. What this module computes is checked byte for byte against node:crypto
 * (libs/event-store/test/merkle-sha256.spec.ts), and everything that verifies a proof or a checkpoint (merkle.ts,
 * `ledger verify-proof`, `verify --against`) hashes with node:crypto, not with this.
 *
 * A hash is 8 words, big-endian (word 0 = bytes 0–3), at some offset of an Int32Array.
 */

/** The block being compressed and the running state: one of each per thread (hashing is synchronous). */
const W = new Int32Array(16);
const S = new Int32Array(8);

function initState(s: Int32Array): void {
  s[0] = 0x6a09e667;
  s[1] = 0xbb67ae85 | 0;
  s[2] = 0x3c6ef372;
  s[3] = 0xa54ff53a | 0;
  s[4] = 0x510e527f;
  s[5] = 0x9b05688c | 0;
  s[6] = 0x1f83d9ab;
  s[7] = 0x5be0cd19;
}

/**
 * One compression (FIPS 180-4 § 6.2.2) of the block `m[0..15]` into the state `s`: the 64 rounds written out, the
 * message schedule kept in 16 locals (w0 … w15, each reused every 16 rounds) and the round constants K as int32
 * literals, names rotated instead of moved. Written out by a loop over the standard round (below, in words) because
 * V8 keeps all of that in registers: ≈ 2× faster than the same rounds as a loop over typed arrays, which matters here.
 *
 *   round i:  h += Σ1(e) + Ch(e, f, g) + K[i] + W[i];  d += h;  h += Σ0(a) + Maj(a, b, c);  then rename (a…h) → (h, a…g)
 *   i ≥ 16:   W[i] = σ1(W[i-2]) + W[i-7] + σ0(W[i-15]) + W[i-16]
 */
function compress(s: Int32Array, m: Int32Array): void {
  let w0 = m[0]!;
  let w1 = m[1]!;
  let w2 = m[2]!;
  let w3 = m[3]!;
  let w4 = m[4]!;
  let w5 = m[5]!;
  let w6 = m[6]!;
  let w7 = m[7]!;
  let w8 = m[8]!;
  let w9 = m[9]!;
  let w10 = m[10]!;
  let w11 = m[11]!;
  let w12 = m[12]!;
  let w13 = m[13]!;
  let w14 = m[14]!;
  let w15 = m[15]!;
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  let e = s[4]!;
  let f = s[5]!;
  let g = s[6]!;
  let h = s[7]!;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + 1116352408 + w0) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + 1899447441 + w1) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + -1245643825 + w2) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + -373957723 + w3) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + 961987163 + w4) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + 1508970993 + w5) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + -1841331548 + w6) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + -1424204075 + w7) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + -670586216 + w8) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + 310598401 + w9) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + 607225278 + w10) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + 1426881987 + w11) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + 1925078388 + w12) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + -2132889090 + w13) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + -1680079193 + w14) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + -1046744716 + w15) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  w0 = (w0 + (((w1 >>> 7) | (w1 << 25)) ^ ((w1 >>> 18) | (w1 << 14)) ^ (w1 >>> 3)) + w9) | 0;
  w0 = (w0 + (((w14 >>> 17) | (w14 << 15)) ^ ((w14 >>> 19) | (w14 << 13)) ^ (w14 >>> 10))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + -459576895 + w0) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  w1 = (w1 + (((w2 >>> 7) | (w2 << 25)) ^ ((w2 >>> 18) | (w2 << 14)) ^ (w2 >>> 3)) + w10) | 0;
  w1 = (w1 + (((w15 >>> 17) | (w15 << 15)) ^ ((w15 >>> 19) | (w15 << 13)) ^ (w15 >>> 10))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + -272742522 + w1) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  w2 = (w2 + (((w3 >>> 7) | (w3 << 25)) ^ ((w3 >>> 18) | (w3 << 14)) ^ (w3 >>> 3)) + w11) | 0;
  w2 = (w2 + (((w0 >>> 17) | (w0 << 15)) ^ ((w0 >>> 19) | (w0 << 13)) ^ (w0 >>> 10))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + 264347078 + w2) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  w3 = (w3 + (((w4 >>> 7) | (w4 << 25)) ^ ((w4 >>> 18) | (w4 << 14)) ^ (w4 >>> 3)) + w12) | 0;
  w3 = (w3 + (((w1 >>> 17) | (w1 << 15)) ^ ((w1 >>> 19) | (w1 << 13)) ^ (w1 >>> 10))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + 604807628 + w3) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  w4 = (w4 + (((w5 >>> 7) | (w5 << 25)) ^ ((w5 >>> 18) | (w5 << 14)) ^ (w5 >>> 3)) + w13) | 0;
  w4 = (w4 + (((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + 770255983 + w4) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  w5 = (w5 + (((w6 >>> 7) | (w6 << 25)) ^ ((w6 >>> 18) | (w6 << 14)) ^ (w6 >>> 3)) + w14) | 0;
  w5 = (w5 + (((w3 >>> 17) | (w3 << 15)) ^ ((w3 >>> 19) | (w3 << 13)) ^ (w3 >>> 10))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + 1249150122 + w5) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  w6 = (w6 + (((w7 >>> 7) | (w7 << 25)) ^ ((w7 >>> 18) | (w7 << 14)) ^ (w7 >>> 3)) + w15) | 0;
  w6 = (w6 + (((w4 >>> 17) | (w4 << 15)) ^ ((w4 >>> 19) | (w4 << 13)) ^ (w4 >>> 10))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + 1555081692 + w6) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  w7 = (w7 + (((w8 >>> 7) | (w8 << 25)) ^ ((w8 >>> 18) | (w8 << 14)) ^ (w8 >>> 3)) + w0) | 0;
  w7 = (w7 + (((w5 >>> 17) | (w5 << 15)) ^ ((w5 >>> 19) | (w5 << 13)) ^ (w5 >>> 10))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + 1996064986 + w7) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  w8 = (w8 + (((w9 >>> 7) | (w9 << 25)) ^ ((w9 >>> 18) | (w9 << 14)) ^ (w9 >>> 3)) + w1) | 0;
  w8 = (w8 + (((w6 >>> 17) | (w6 << 15)) ^ ((w6 >>> 19) | (w6 << 13)) ^ (w6 >>> 10))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + -1740746414 + w8) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  w9 = (w9 + (((w10 >>> 7) | (w10 << 25)) ^ ((w10 >>> 18) | (w10 << 14)) ^ (w10 >>> 3)) + w2) | 0;
  w9 = (w9 + (((w7 >>> 17) | (w7 << 15)) ^ ((w7 >>> 19) | (w7 << 13)) ^ (w7 >>> 10))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + -1473132947 + w9) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  w10 = (w10 + (((w11 >>> 7) | (w11 << 25)) ^ ((w11 >>> 18) | (w11 << 14)) ^ (w11 >>> 3)) + w3) | 0;
  w10 = (w10 + (((w8 >>> 17) | (w8 << 15)) ^ ((w8 >>> 19) | (w8 << 13)) ^ (w8 >>> 10))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + -1341970488 + w10) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  w11 = (w11 + (((w12 >>> 7) | (w12 << 25)) ^ ((w12 >>> 18) | (w12 << 14)) ^ (w12 >>> 3)) + w4) | 0;
  w11 = (w11 + (((w9 >>> 17) | (w9 << 15)) ^ ((w9 >>> 19) | (w9 << 13)) ^ (w9 >>> 10))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + -1084653625 + w11) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  w12 = (w12 + (((w13 >>> 7) | (w13 << 25)) ^ ((w13 >>> 18) | (w13 << 14)) ^ (w13 >>> 3)) + w5) | 0;
  w12 = (w12 + (((w10 >>> 17) | (w10 << 15)) ^ ((w10 >>> 19) | (w10 << 13)) ^ (w10 >>> 10))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + -958395405 + w12) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  w13 = (w13 + (((w14 >>> 7) | (w14 << 25)) ^ ((w14 >>> 18) | (w14 << 14)) ^ (w14 >>> 3)) + w6) | 0;
  w13 = (w13 + (((w11 >>> 17) | (w11 << 15)) ^ ((w11 >>> 19) | (w11 << 13)) ^ (w11 >>> 10))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + -710438585 + w13) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  w14 = (w14 + (((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)) + w7) | 0;
  w14 = (w14 + (((w12 >>> 17) | (w12 << 15)) ^ ((w12 >>> 19) | (w12 << 13)) ^ (w12 >>> 10))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + 113926993 + w14) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  w15 = (w15 + (((w0 >>> 7) | (w0 << 25)) ^ ((w0 >>> 18) | (w0 << 14)) ^ (w0 >>> 3)) + w8) | 0;
  w15 = (w15 + (((w13 >>> 17) | (w13 << 15)) ^ ((w13 >>> 19) | (w13 << 13)) ^ (w13 >>> 10))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + 338241895 + w15) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  w0 = (w0 + (((w1 >>> 7) | (w1 << 25)) ^ ((w1 >>> 18) | (w1 << 14)) ^ (w1 >>> 3)) + w9) | 0;
  w0 = (w0 + (((w14 >>> 17) | (w14 << 15)) ^ ((w14 >>> 19) | (w14 << 13)) ^ (w14 >>> 10))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + 666307205 + w0) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  w1 = (w1 + (((w2 >>> 7) | (w2 << 25)) ^ ((w2 >>> 18) | (w2 << 14)) ^ (w2 >>> 3)) + w10) | 0;
  w1 = (w1 + (((w15 >>> 17) | (w15 << 15)) ^ ((w15 >>> 19) | (w15 << 13)) ^ (w15 >>> 10))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + 773529912 + w1) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  w2 = (w2 + (((w3 >>> 7) | (w3 << 25)) ^ ((w3 >>> 18) | (w3 << 14)) ^ (w3 >>> 3)) + w11) | 0;
  w2 = (w2 + (((w0 >>> 17) | (w0 << 15)) ^ ((w0 >>> 19) | (w0 << 13)) ^ (w0 >>> 10))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + 1294757372 + w2) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  w3 = (w3 + (((w4 >>> 7) | (w4 << 25)) ^ ((w4 >>> 18) | (w4 << 14)) ^ (w4 >>> 3)) + w12) | 0;
  w3 = (w3 + (((w1 >>> 17) | (w1 << 15)) ^ ((w1 >>> 19) | (w1 << 13)) ^ (w1 >>> 10))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + 1396182291 + w3) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  w4 = (w4 + (((w5 >>> 7) | (w5 << 25)) ^ ((w5 >>> 18) | (w5 << 14)) ^ (w5 >>> 3)) + w13) | 0;
  w4 = (w4 + (((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + 1695183700 + w4) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  w5 = (w5 + (((w6 >>> 7) | (w6 << 25)) ^ ((w6 >>> 18) | (w6 << 14)) ^ (w6 >>> 3)) + w14) | 0;
  w5 = (w5 + (((w3 >>> 17) | (w3 << 15)) ^ ((w3 >>> 19) | (w3 << 13)) ^ (w3 >>> 10))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + 1986661051 + w5) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  w6 = (w6 + (((w7 >>> 7) | (w7 << 25)) ^ ((w7 >>> 18) | (w7 << 14)) ^ (w7 >>> 3)) + w15) | 0;
  w6 = (w6 + (((w4 >>> 17) | (w4 << 15)) ^ ((w4 >>> 19) | (w4 << 13)) ^ (w4 >>> 10))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + -2117940946 + w6) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  w7 = (w7 + (((w8 >>> 7) | (w8 << 25)) ^ ((w8 >>> 18) | (w8 << 14)) ^ (w8 >>> 3)) + w0) | 0;
  w7 = (w7 + (((w5 >>> 17) | (w5 << 15)) ^ ((w5 >>> 19) | (w5 << 13)) ^ (w5 >>> 10))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + -1838011259 + w7) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  w8 = (w8 + (((w9 >>> 7) | (w9 << 25)) ^ ((w9 >>> 18) | (w9 << 14)) ^ (w9 >>> 3)) + w1) | 0;
  w8 = (w8 + (((w6 >>> 17) | (w6 << 15)) ^ ((w6 >>> 19) | (w6 << 13)) ^ (w6 >>> 10))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + -1564481375 + w8) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  w9 = (w9 + (((w10 >>> 7) | (w10 << 25)) ^ ((w10 >>> 18) | (w10 << 14)) ^ (w10 >>> 3)) + w2) | 0;
  w9 = (w9 + (((w7 >>> 17) | (w7 << 15)) ^ ((w7 >>> 19) | (w7 << 13)) ^ (w7 >>> 10))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + -1474664885 + w9) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  w10 = (w10 + (((w11 >>> 7) | (w11 << 25)) ^ ((w11 >>> 18) | (w11 << 14)) ^ (w11 >>> 3)) + w3) | 0;
  w10 = (w10 + (((w8 >>> 17) | (w8 << 15)) ^ ((w8 >>> 19) | (w8 << 13)) ^ (w8 >>> 10))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + -1035236496 + w10) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  w11 = (w11 + (((w12 >>> 7) | (w12 << 25)) ^ ((w12 >>> 18) | (w12 << 14)) ^ (w12 >>> 3)) + w4) | 0;
  w11 = (w11 + (((w9 >>> 17) | (w9 << 15)) ^ ((w9 >>> 19) | (w9 << 13)) ^ (w9 >>> 10))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + -949202525 + w11) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  w12 = (w12 + (((w13 >>> 7) | (w13 << 25)) ^ ((w13 >>> 18) | (w13 << 14)) ^ (w13 >>> 3)) + w5) | 0;
  w12 = (w12 + (((w10 >>> 17) | (w10 << 15)) ^ ((w10 >>> 19) | (w10 << 13)) ^ (w10 >>> 10))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + -778901479 + w12) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  w13 = (w13 + (((w14 >>> 7) | (w14 << 25)) ^ ((w14 >>> 18) | (w14 << 14)) ^ (w14 >>> 3)) + w6) | 0;
  w13 = (w13 + (((w11 >>> 17) | (w11 << 15)) ^ ((w11 >>> 19) | (w11 << 13)) ^ (w11 >>> 10))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + -694614492 + w13) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  w14 = (w14 + (((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)) + w7) | 0;
  w14 = (w14 + (((w12 >>> 17) | (w12 << 15)) ^ ((w12 >>> 19) | (w12 << 13)) ^ (w12 >>> 10))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + -200395387 + w14) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  w15 = (w15 + (((w0 >>> 7) | (w0 << 25)) ^ ((w0 >>> 18) | (w0 << 14)) ^ (w0 >>> 3)) + w8) | 0;
  w15 = (w15 + (((w13 >>> 17) | (w13 << 15)) ^ ((w13 >>> 19) | (w13 << 13)) ^ (w13 >>> 10))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + 275423344 + w15) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  w0 = (w0 + (((w1 >>> 7) | (w1 << 25)) ^ ((w1 >>> 18) | (w1 << 14)) ^ (w1 >>> 3)) + w9) | 0;
  w0 = (w0 + (((w14 >>> 17) | (w14 << 15)) ^ ((w14 >>> 19) | (w14 << 13)) ^ (w14 >>> 10))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + 430227734 + w0) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  w1 = (w1 + (((w2 >>> 7) | (w2 << 25)) ^ ((w2 >>> 18) | (w2 << 14)) ^ (w2 >>> 3)) + w10) | 0;
  w1 = (w1 + (((w15 >>> 17) | (w15 << 15)) ^ ((w15 >>> 19) | (w15 << 13)) ^ (w15 >>> 10))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + 506948616 + w1) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  w2 = (w2 + (((w3 >>> 7) | (w3 << 25)) ^ ((w3 >>> 18) | (w3 << 14)) ^ (w3 >>> 3)) + w11) | 0;
  w2 = (w2 + (((w0 >>> 17) | (w0 << 15)) ^ ((w0 >>> 19) | (w0 << 13)) ^ (w0 >>> 10))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + 659060556 + w2) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  w3 = (w3 + (((w4 >>> 7) | (w4 << 25)) ^ ((w4 >>> 18) | (w4 << 14)) ^ (w4 >>> 3)) + w12) | 0;
  w3 = (w3 + (((w1 >>> 17) | (w1 << 15)) ^ ((w1 >>> 19) | (w1 << 13)) ^ (w1 >>> 10))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + 883997877 + w3) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  w4 = (w4 + (((w5 >>> 7) | (w5 << 25)) ^ ((w5 >>> 18) | (w5 << 14)) ^ (w5 >>> 3)) + w13) | 0;
  w4 = (w4 + (((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + 958139571 + w4) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  w5 = (w5 + (((w6 >>> 7) | (w6 << 25)) ^ ((w6 >>> 18) | (w6 << 14)) ^ (w6 >>> 3)) + w14) | 0;
  w5 = (w5 + (((w3 >>> 17) | (w3 << 15)) ^ ((w3 >>> 19) | (w3 << 13)) ^ (w3 >>> 10))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + 1322822218 + w5) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  w6 = (w6 + (((w7 >>> 7) | (w7 << 25)) ^ ((w7 >>> 18) | (w7 << 14)) ^ (w7 >>> 3)) + w15) | 0;
  w6 = (w6 + (((w4 >>> 17) | (w4 << 15)) ^ ((w4 >>> 19) | (w4 << 13)) ^ (w4 >>> 10))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + 1537002063 + w6) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  w7 = (w7 + (((w8 >>> 7) | (w8 << 25)) ^ ((w8 >>> 18) | (w8 << 14)) ^ (w8 >>> 3)) + w0) | 0;
  w7 = (w7 + (((w5 >>> 17) | (w5 << 15)) ^ ((w5 >>> 19) | (w5 << 13)) ^ (w5 >>> 10))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + 1747873779 + w7) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  w8 = (w8 + (((w9 >>> 7) | (w9 << 25)) ^ ((w9 >>> 18) | (w9 << 14)) ^ (w9 >>> 3)) + w1) | 0;
  w8 = (w8 + (((w6 >>> 17) | (w6 << 15)) ^ ((w6 >>> 19) | (w6 << 13)) ^ (w6 >>> 10))) | 0;
  h = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + 1955562222 + w8) | 0;
  d = (d + h) | 0;
  h = (h + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
  w9 = (w9 + (((w10 >>> 7) | (w10 << 25)) ^ ((w10 >>> 18) | (w10 << 14)) ^ (w10 >>> 3)) + w2) | 0;
  w9 = (w9 + (((w7 >>> 17) | (w7 << 15)) ^ ((w7 >>> 19) | (w7 << 13)) ^ (w7 >>> 10))) | 0;
  g = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + ((d & e) ^ (~d & f)) + 2024104815 + w9) | 0;
  c = (c + g) | 0;
  g = (g + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
  w10 = (w10 + (((w11 >>> 7) | (w11 << 25)) ^ ((w11 >>> 18) | (w11 << 14)) ^ (w11 >>> 3)) + w3) | 0;
  w10 = (w10 + (((w8 >>> 17) | (w8 << 15)) ^ ((w8 >>> 19) | (w8 << 13)) ^ (w8 >>> 10))) | 0;
  f = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + ((c & d) ^ (~c & e)) + -2067236844 + w10) | 0;
  b = (b + f) | 0;
  f = (f + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
  w11 = (w11 + (((w12 >>> 7) | (w12 << 25)) ^ ((w12 >>> 18) | (w12 << 14)) ^ (w12 >>> 3)) + w4) | 0;
  w11 = (w11 + (((w9 >>> 17) | (w9 << 15)) ^ ((w9 >>> 19) | (w9 << 13)) ^ (w9 >>> 10))) | 0;
  e = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + ((b & c) ^ (~b & d)) + -1933114872 + w11) | 0;
  a = (a + e) | 0;
  e = (e + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
  w12 = (w12 + (((w13 >>> 7) | (w13 << 25)) ^ ((w13 >>> 18) | (w13 << 14)) ^ (w13 >>> 3)) + w5) | 0;
  w12 = (w12 + (((w10 >>> 17) | (w10 << 15)) ^ ((w10 >>> 19) | (w10 << 13)) ^ (w10 >>> 10))) | 0;
  d = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + ((a & b) ^ (~a & c)) + -1866530822 + w12) | 0;
  h = (h + d) | 0;
  d = (d + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
  w13 = (w13 + (((w14 >>> 7) | (w14 << 25)) ^ ((w14 >>> 18) | (w14 << 14)) ^ (w14 >>> 3)) + w6) | 0;
  w13 = (w13 + (((w11 >>> 17) | (w11 << 15)) ^ ((w11 >>> 19) | (w11 << 13)) ^ (w11 >>> 10))) | 0;
  c = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + ((h & a) ^ (~h & b)) + -1538233109 + w13) | 0;
  g = (g + c) | 0;
  c = (c + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
  w14 = (w14 + (((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)) + w7) | 0;
  w14 = (w14 + (((w12 >>> 17) | (w12 << 15)) ^ ((w12 >>> 19) | (w12 << 13)) ^ (w12 >>> 10))) | 0;
  b = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + ((g & h) ^ (~g & a)) + -1090935817 + w14) | 0;
  f = (f + b) | 0;
  b = (b + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
  w15 = (w15 + (((w0 >>> 7) | (w0 << 25)) ^ ((w0 >>> 18) | (w0 << 14)) ^ (w0 >>> 3)) + w8) | 0;
  w15 = (w15 + (((w13 >>> 17) | (w13 << 15)) ^ ((w13 >>> 19) | (w13 << 13)) ^ (w13 >>> 10))) | 0;
  a = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + ((f & g) ^ (~f & h)) + -965641998 + w15) | 0;
  e = (e + a) | 0;
  a = (a + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
}

function emit(s: Int32Array, out: Int32Array, at: number): void {
  for (let i = 0; i < 8; i++) out[at + i] = s[i]!;
}

/** SHA-256(0x00 || the 32 bytes whose words are `hash[at..at+8)`), into `out[outAt..outAt+8)` (may be the same place). */
export function leafWords(hash: Int32Array, at: number, out: Int32Array, outAt: number): void {
  const w = W;
  const s = S;
  w[0] = hash[at]! >>> 8;
  for (let i = 1; i < 8; i++) w[i] = (hash[at + i - 1]! << 24) | (hash[at + i]! >>> 8);
  w[8] = (hash[at + 7]! << 24) | 0x800000;
  for (let i = 9; i < 15; i++) w[i] = 0;
  w[15] = 33 * 8;
  initState(s);
  compress(s, w);
  emit(s, out, outAt);
}

/** SHA-256(0x01 || left || right), each 8 words, into `out[outAt..outAt+8)` (may overlap either input). */
export function nodeWords(left: Int32Array, leftAt: number, right: Int32Array, rightAt: number, out: Int32Array, outAt: number): void {
  const w = W;
  const s = S;
  const r7 = right[rightAt + 7]!;
  w[0] = 0x01000000 | (left[leftAt]! >>> 8);
  for (let i = 1; i < 8; i++) w[i] = (left[leftAt + i - 1]! << 24) | (left[leftAt + i]! >>> 8);
  w[8] = (left[leftAt + 7]! << 24) | (right[rightAt]! >>> 8);
  for (let i = 9; i < 16; i++) w[i] = (right[rightAt + i - 9]! << 24) | (right[rightAt + i - 8]! >>> 8);
  initState(s);
  compress(s, w);
  w[0] = (r7 << 24) | 0x800000;
  for (let i = 1; i < 15; i++) w[i] = 0;
  w[15] = 65 * 8;
  compress(s, w);
  emit(s, out, outAt);
}

/** The value of two hex digits (either case), indexed by their char codes (each < 128) as c1 << 7 | c2; -1 if not hex. */
const HEX_PAIRS = new Int16Array(1 << 14).fill(-1);
{
  const digit = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  for (let c1 = 0; c1 < 128; c1++)
    for (let c2 = 0; c2 < 128; c2++) if (digit(c1) >= 0 && digit(c2) >= 0) HEX_PAIRS[(c1 << 7) | c2] = (digit(c1) << 4) | digit(c2);
}

/** The 64 hex digits of a chain hash as 8 words at `out[at..at+8)`; a RangeError for anything else. */
export function wordsOfHex(hex: string, out: Int32Array, at: number): void {
  if (hex.length !== 64) throw new RangeError(`not a chain hash (64 hex digits): ${hex.slice(0, 70)}`);
  const pairs = HEX_PAIRS;
  let codes = 0;
  let bytes = 0;
  for (let w = 0; w < 8; w++) {
    let v = 0;
    for (let i = w * 8; i < w * 8 + 8; i += 2) {
      const c1 = hex.charCodeAt(i);
      const c2 = hex.charCodeAt(i + 1);
      const b = pairs[((c1 << 7) | c2) & 0x3fff]!;
      codes |= c1 | c2;
      bytes |= b;
      v = (v << 8) | (b & 0xff);
    }
    out[at + w] = v;
  }
  if (codes > 127 || bytes < 0) throw new RangeError(`not a chain hash (64 hex digits): ${hex}`);
}

/** 32 bytes (a stored node) as 8 words at `out[at..at+8)`. */
export function wordsOfBytes(bytes: Uint8Array, out: Int32Array, at: number): void {
  if (bytes.length !== 32) throw new RangeError(`a Merkle hash has 32 bytes, not ${bytes.length}`);
  for (let w = 0; w < 8; w++) out[at + w] = (bytes[w * 4]! << 24) | (bytes[w * 4 + 1]! << 16) | (bytes[w * 4 + 2]! << 8) | bytes[w * 4 + 3]!;
}

/** The 8 words at `words[at..at+8)` as 32 bytes. */
export function bytesOfWords(words: Int32Array, at: number): Buffer {
  const out = Buffer.allocUnsafe(32);
  for (let w = 0; w < 8; w++) out.writeInt32BE(words[at + w]!, w * 4);
  return out;
}

/*
 * Four hashes at once: the same compression on 4 lanes of WebAssembly SIMD (v128 = 4 × i32), for the leaves of a batch
 * and the nodes of each level of it, which are independent of one another. One 4-lane compression costs about what one
 * JavaScript compression does, so a batch hashes ≈ 3–4× faster. The module is written out here byte by byte (no
 * toolchain): one function, compress4(statePtr, blockPtr), over its own memory, where state word j of lane l is the
 * i32 at statePtr + 16·j + 4·l and block word j of lane l at blockPtr + 16·j + 4·l. Ch and Maj are v128.bitselect:
 * Ch(e, f, g) = bitselect(f, g, e), Maj(a, b, c) = bitselect(b, a, a ^ c).
 */

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const ROUND_CONSTANTS = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** The bytes of the module: `compress4` as above, and its memory (one 64 KiB page) exported. */
export function compress4Module(): Uint8Array {
  const c: number[] = [];
  const get = (i: number) => c.push(0x20, ...uleb(i));
  const set = (i: number) => c.push(0x21, ...uleb(i));
  const simd = (op: number) => c.push(0xfd, ...uleb(op));
  const i32 = (n: number) => c.push(0x41, ...sleb(n));
  const load = (ptr: number, offset: number) => {
    get(ptr);
    simd(0); // v128.load, align 16
    c.push(4, ...uleb(offset));
  };
  const add = () => simd(174); // i32x4.add
  const xor = () => simd(81);
  const or = () => simd(80);
  const shl = () => simd(171); // i32x4.shl
  const shrU = () => simd(173); // i32x4.shr_u
  const bitselect = () => simd(82);
  // Locals: 0 statePtr, 1 blockPtr (i32); then w0 … w15 and a … h (v128).
  const W = (j: number) => 2 + j;
  const V = (j: number) => 18 + j;
  const rotr = (x: number, n: number) => {
    get(x);
    i32(n);
    shrU();
    get(x);
    i32(32 - n);
    shl();
    or();
  };
  const smallSigma = (x: number, r1: number, r2: number, s: number) => {
    rotr(x, r1);
    rotr(x, r2);
    xor();
    get(x);
    i32(s);
    shrU();
    xor();
  };
  const bigSigma = (x: number, r1: number, r2: number, r3: number) => {
    rotr(x, r1);
    rotr(x, r2);
    xor();
    rotr(x, r3);
    xor();
  };
  for (let j = 0; j < 16; j++) {
    load(1, j * 16);
    set(W(j));
  }
  for (let j = 0; j < 8; j++) {
    load(0, j * 16);
    set(V(j));
  }
  for (let i = 0; i < 64; i++) {
    const [a, b, cc, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => V((j - (i % 8) + 8) % 8)) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const w = W(i % 16);
    if (i >= 16) {
      get(w);
      smallSigma(W((i - 15) % 16), 7, 18, 3);
      add();
      get(W((i - 7) % 16));
      add();
      smallSigma(W((i - 2) % 16), 17, 19, 10);
      add();
      set(w);
    }
    // h += Σ1(e) + Ch(e, f, g) + K[i] + W[i]
    get(h);
    bigSigma(e, 6, 11, 25);
    add();
    get(f);
    get(g);
    get(e);
    bitselect();
    add();
    i32(ROUND_CONSTANTS[i]! | 0);
    simd(17); // i32x4.splat
    add();
    get(w);
    add();
    set(h);
    // d += h
    get(d);
    get(h);
    add();
    set(d);
    // h += Σ0(a) + Maj(a, b, c)
    get(h);
    bigSigma(a, 2, 13, 22);
    add();
    get(b);
    get(a);
    get(a);
    get(cc);
    xor();
    bitselect();
    add();
    set(h);
  }
  for (let j = 0; j < 8; j++) {
    get(0);
    load(0, j * 16);
    get(V(j));
    add();
    simd(11); // v128.store
    c.push(4, ...uleb(j * 16));
  }
  c.push(0x0b);
  const body = [1, 24, 0x7b, ...c]; // one run of 24 v128 locals
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // type: (i32, i32) → ()
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0, 1]), // memory: 1 page
    ...section(7, [2, ...name('memory'), 2, 0, ...name('compress4'), 0, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

interface Lanes {
  readonly compress4: (statePtr: number, blockPtr: number) => void;
  /** The module's memory as i32: state at [0, 32), block at [32, 96). */
  readonly mem: Int32Array;
}

/** The part of the WebAssembly global used here (this project's TypeScript libs do not declare it). */
interface Wasm {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: { compress4: Lanes['compress4']; memory: { buffer: ArrayBuffer } } };
}

/** Undefined where WebAssembly SIMD is not available: the scalar functions above do everything then. */
const LANES: Lanes | undefined = (() => {
  try {
    const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
    const { exports } = new wasm.Instance(new wasm.Module(compress4Module()));
    return { compress4: exports.compress4, mem: new Int32Array(exports.memory.buffer) };
  } catch {
    // A runtime without SIMD refuses the module; hashing one at a time gives the same hashes.
    return undefined;
  }
})();

/** Whether the 4-lane path runs here (it does on Node 24). */
export const HASHES_FOUR_AT_ONCE = LANES !== undefined;

const IV = [0x6a09e667, 0xbb67ae85 | 0, 0x3c6ef372, 0xa54ff53a | 0, 0x510e527f, 0x9b05688c | 0, 0x1f83d9ab, 0x5be0cd19];
const STATE = 0;
const BLOCK = 32;

function initLanes(mem: Int32Array): void {
  for (let j = 0; j < 8; j++) {
    const v = IV[j]!;
    mem[STATE + j * 4] = v;
    mem[STATE + j * 4 + 1] = v;
    mem[STATE + j * 4 + 2] = v;
    mem[STATE + j * 4 + 3] = v;
  }
}

function emitLanes(mem: Int32Array, lanes: number, out: Int32Array, outAt: number): void {
  for (let l = 0; l < lanes; l++) for (let j = 0; j < 8; j++) out[outAt + l * 8 + j] = mem[STATE + j * 4 + l]!;
}

/**
 * Leaf hashes of `count` hashes (8 words each) at `src[srcAt…]`, into `out[outAt…]` (may be the same place): 4 at a
 * time with SIMD, else one by one.
 */
export function leafWordsMany(src: Int32Array, srcAt: number, count: number, out: Int32Array, outAt: number): void {
  if (LANES === undefined) {
    for (let i = 0; i < count; i++) leafWords(src, srcAt + i * 8, out, outAt + i * 8);
    return;
  }
  const { compress4, mem } = LANES;
  for (let i = 0; i < count; i += 4) {
    const lanes = Math.min(4, count - i);
    for (let l = 0; l < lanes; l++) {
      const h = srcAt + (i + l) * 8;
      mem[BLOCK + l] = src[h]! >>> 8;
      for (let j = 1; j < 8; j++) mem[BLOCK + j * 4 + l] = (src[h + j - 1]! << 24) | (src[h + j]! >>> 8);
      mem[BLOCK + 32 + l] = (src[h + 7]! << 24) | 0x800000;
      for (let j = 9; j < 15; j++) mem[BLOCK + j * 4 + l] = 0;
      mem[BLOCK + 60 + l] = 33 * 8;
    }
    initLanes(mem);
    compress4(STATE * 4, BLOCK * 4);
    emitLanes(mem, lanes, out, outAt + i * 8);
  }
}

/**
 * Node hashes of `count` pairs: pair p is left = `src[srcAt + 16p …]`, right = `src[srcAt + 16p + 8 …]`; node p goes to
 * `out[outAt + 8p …]` (out must not overlap src beyond the pairs already read: out before src, or apart).
 */
export function nodeWordsMany(src: Int32Array, srcAt: number, count: number, out: Int32Array, outAt: number): void {
  if (LANES === undefined) {
    for (let p = 0; p < count; p++) nodeWords(src, srcAt + p * 16, src, srcAt + p * 16 + 8, out, outAt + p * 8);
    return;
  }
  const { compress4, mem } = LANES;
  for (let p = 0; p < count; p += 4) {
    const lanes = Math.min(4, count - p);
    for (let l = 0; l < lanes; l++) {
      const left = srcAt + (p + l) * 16;
      const right = left + 8;
      mem[BLOCK + l] = 0x01000000 | (src[left]! >>> 8);
      for (let j = 1; j < 8; j++) mem[BLOCK + j * 4 + l] = (src[left + j - 1]! << 24) | (src[left + j]! >>> 8);
      mem[BLOCK + 32 + l] = (src[left + 7]! << 24) | (src[right]! >>> 8);
      for (let j = 9; j < 16; j++) mem[BLOCK + j * 4 + l] = (src[right + j - 9]! << 24) | (src[right + j - 8]! >>> 8);
    }
    initLanes(mem);
    compress4(STATE * 4, BLOCK * 4);
    for (let l = 0; l < lanes; l++) {
      mem[BLOCK + l] = (src[srcAt + (p + l) * 16 + 15]! << 24) | 0x800000;
      for (let j = 1; j < 15; j++) mem[BLOCK + j * 4 + l] = 0;
      mem[BLOCK + 60 + l] = 65 * 8;
    }
    compress4(STATE * 4, BLOCK * 4);
    emitLanes(mem, lanes, out, outAt + p * 8);
  }
}
