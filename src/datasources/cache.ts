/**
 * A bounded map that forgets its oldest entry past `capacity`: what data sources keep in front of their store. A hit
 * does not reorder (as an LRU's does): on the hot path that delete-and-insert per lookup cost more than the misses it
 * saves. Hits, misses and evictions are counted, so that a cache too small for its load shows.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  }

  /** The value of `key`; undefined when absent (a cached undefined is absent too). */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  set(key: K, value: V): void {
    if (!this.map.has(key) && this.map.size >= this.capacity) {
      this.map.delete(this.map.keys().next().value as K);
      this.evictions++;
    }
    this.map.set(key, value);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
