/**
 * A set of small integers with O(1) add, delete and uniform random pick — what the shadow state needs to choose
 * "a random active member", "a random user of this group" millions of times without scanning.
 * Iteration order depends only on the operations made, so histories stay reproducible.
 *
 * With a `capacity` (ids known to be below it, e.g. user indexes) positions live in an Int32Array instead of a Map:
 * several times faster, at 4 bytes per possible id. The array holds position + 1, so a fresh (zeroed, lazily
 * committed) array needs no initialisation.
 */
export class IndexedSet {
  readonly items: number[] = [];
  private readonly at: Map<number, number> | undefined;
  private readonly slots: Int32Array | undefined;

  constructor(capacity?: number) {
    if (capacity === undefined) this.at = new Map();
    else this.slots = new Int32Array(capacity);
  }

  get size(): number {
    return this.items.length;
  }

  has(x: number): boolean {
    return this.slots !== undefined ? this.slots[x]! > 0 : this.at!.has(x);
  }

  add(x: number): void {
    if (this.slots !== undefined) {
      if (this.slots[x]! > 0) return;
      this.slots[x] = this.items.length + 1;
    } else {
      if (this.at!.has(x)) return;
      this.at!.set(x, this.items.length);
    }
    this.items.push(x);
  }

  delete(x: number): void {
    const i = this.slots !== undefined ? this.slots[x]! - 1 : (this.at!.get(x) ?? -1);
    if (i < 0) return;
    const last = this.items.pop()!;
    if (this.slots !== undefined) this.slots[x] = 0;
    else this.at!.delete(x);
    if (i < this.items.length) {
      this.items[i] = last;
      if (this.slots !== undefined) this.slots[last] = i + 1;
      else this.at!.set(last, i);
    }
  }

  /** A random element (undefined when empty); `r` in [0, 1). */
  pick(r: number): number | undefined {
    return this.items.length === 0 ? undefined : this.items[Math.floor(r * this.items.length)];
  }
}
