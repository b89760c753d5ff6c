// The soaks' deterministic PRNG (xorshift32 as a float in [0, 1)), so a run is
// reproducible from its seed.
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s ^= this.s << 13;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5;
    return (this.s >>> 0) / 0x100000000;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}
