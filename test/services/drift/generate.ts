/** Seeded data sets for the drift tests: normal, shifted, heavy-tailed, tied, categorical. */
import { seededRandom } from "../../../services/drift/profile";

export function generator(seed: number) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return {
    random,
    normal: (n: number, mean = 0, sd = 1) => Array.from({ length: n }, () => mean + sd * normal()),
    /** Student-t with 2 degrees of freedom: infinite variance, heavy tails. */
    heavy: (n: number, shift = 0) => Array.from({ length: n }, () => shift + normal() / Math.sqrt((normal() ** 2 + normal() ** 2) / 2)),
    /** Rounded normals: many ties. */
    ties: (n: number, shift = 0) => Array.from({ length: n }, () => Math.round(2 * normal() + shift)),
    /** Category counts with a rare level; `tilt` moves mass to the tail levels. */
    categories: (n: number, tilt = 0) => {
      const weights = [0.5 - tilt, 0.3, 0.15, 0.045 + tilt / 2, 0.005 + tilt / 2];
      const counts = weights.map(() => 0);
      for (let i = 0; i < n; i++) {
        let u = random();
        let k = 0;
        while (k < weights.length - 1 && u >= weights[k]!) u -= weights[k++]!;
        counts[k]!++;
      }
      return counts;
    },
  };
}
