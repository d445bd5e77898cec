/**
 * Tail probabilities of the Kolmogorov-Smirnov statistics that a two-sample KS test needs:
 * - `kolmogorovSf(n, d)`: P(D_n > d), the one-sample two-sided statistic (scipy's `kstwo.sf`),
 *   which scipy's `ks_2samp` uses with n = round(n1*n2/(n1+n2)) in its asymptotic mode;
 * - `smirnovSf(n, d)`: P(D+_n >= d), the one-sided statistic (scipy.special.smirnov);
 * - `twoSampleExactSf(n1, n2, h)`: P(D_{n1,n2} >= h/lcm), the exact two-sample distribution.
 *
 * Written by hand because no maintained JavaScript library (@stdlib included: its kstest is the
 * one-sample test and keeps its Kolmogorov CDF private) implements the finite-n distributions.
 * The branch choices follow Simard & L'Ecuyer (2011) exactly as scipy does, so p-values agree
 * with scipy; where scipy uses Pomeranz's recursion we use the Durbin matrix (both are exact).
 * References: Durbin (1968); Marsaglia, Tsang & Wang (2003); Pelz & Good (1976); Birnbaum &
 * Tingey (1951); Hodges (1958); Viehmann (2021, arXiv:2102.08037).
 */
import gammaln from "@stdlib/math-base-special-gammaln";

const SCALE_EXP = 128;
const SCALE_UP = 2 ** SCALE_EXP;
const SCALE_DOWN = 2 ** -SCALE_EXP;
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const MIN_LOG = -708;

const clip01 = (p: number): number => Math.min(Math.max(p, 0), 1);

/** log(n! / n^n) with Stirling's series, avoiding the cancellation of n*log(n) terms. */
function logFactorialOverPower(n: number): number {
  // Stirling series coefficients B_2j / (2j (2j - 1)), j = 8..1 (highest power first).
  const coeffs = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];
  const rn = 1 / n;
  let poly = 0;
  for (const c of coeffs) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/** P(D_n <= d) by the Durbin matrix, powered by repeated squaring with explicit exponent scaling (MTW 2003). */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  v[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  const multiply = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const ail = a[i * m + l]!;
        if (ail === 0) continue;
        for (let j = 0; j < m; j++) out[i * m + j]! += ail * b[l * m + j]!;
      }
    }
    return out;
  };
  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let hExponent = 0;
  let remaining = n;
  while (remaining > 0) {
    if (remaining % 2) {
      power = multiply(power, H);
      exponent += hExponent;
    }
    H = multiply(H, H);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > SCALE_UP) {
      for (let i = 0; i < H.length; i++) H[i]! *= SCALE_DOWN;
      hExponent += SCALE_EXP;
    }
    remaining = Math.floor(remaining / 2);
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < SCALE_DOWN) {
      p *= SCALE_UP;
      exponent -= SCALE_EXP;
    }
  }
  return clip01(p * 2 ** exponent);
}

/** Pelz-Good asymptotic series for P(D_n <= x), used by scipy for large n near the centre. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  const q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / divisors[i]!;
  const q2 = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qp = q2 ** k2;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * k2 * qp;
  }
  K[2]! += (k2extra * PI2 * SQRT2PI) / (-36 * z ** 3);
  K[3]! += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}

/**
 * P(D+_n >= d) by the Birnbaum-Tingey sum. Every term is positive, so summing in log space
 * keeps ~1e-12 relative accuracy up to n in the millions.
 */
export function smirnovSf(n: number, d: number): number {
  if (!(d > 0)) return 1;
  if (d >= 1) return 0;
  const last = Math.floor(n * (1 - d));
  const logNFact = gammaln(n + 1);
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    const evn = d + v / n;
    const rest = 1 - evn;
    if (n - v > 0 && rest <= 0) continue;
    const logTerm = logNFact - gammaln(v + 1) - gammaln(n - v + 1) + (v - 1) * Math.log(evn) + (n - v > 0 ? (n - v) * Math.log(rest) : 0);
    if (logTerm > -745) sum += Math.exp(logTerm);
  }
  return clip01(sum * d);
}

/** P(D_n > x) for the one-sample two-sided KS statistic with sample size n (scipy `kstwo.sf`). */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`kolmogorovSf: n must be a positive integer, got ${n}`);
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben-Gambino: exact for 1/(2n) <= x <= 1/n.
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip01(1 - durbinCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip01(1 - cdf);
}

/**
 * Exact P(D >= h / lcm(n1, n2)) for the two-sided two-sample statistic under H0 (no ties),
 * counting lattice paths that leave the band |x/n1 - y/n2| < h/lcm. Equal sizes use the closed
 * form of the reflection principle in Horner form; unequal sizes use Viehmann's recursion that
 * carries 1 - p, which stays in [0, 1] and avoids the cancellation of the classical count.
 * Returns NaN when floating point cannot represent the answer (the caller falls back to asymptotic).
 */
export function twoSampleExactSf(n1: number, n2: number, h: number): number {
  if (h <= 0) return 1;
  if (n1 === n2) {
    const n = n1;
    let p = 0;
    for (let k = Math.floor(n / h); k >= 0; k--) {
      let term = 1;
      for (let j = 0; j < h; j++) term = ((n - k * h - j) * term) / (n + k * h + j + 1);
      p = term * (1 - p);
    }
    return 2 * p;
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const g = gcd(m, n);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  // Escape probabilities along one column of the lattice; points outside the band escape (1).
  const column = new Float64Array(Math.min(2 * maxj + 2, n + 1) + n + 2).fill(1);
  column.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastMinj = minj;
    const lastLen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let below = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      const prevIndex = jj + minj - lastMinj;
      const left = prevIndex < lastLen ? column[prevIndex]! : 1;
      below = (left * i + below * j) / (i + j);
      column[jj] = below;
    }
    curlen = maxj - minj;
    if (lastLen > curlen) column.fill(1, curlen, lastLen);
  }
  return column[maxj - minj - 1]!;
}

export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}
