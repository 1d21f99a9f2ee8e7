/**
 * Per-key token buckets: each key may burst up to `burst` requests and is refilled at `perSecond`.
 * Time comes in as a number (ms) so the arithmetic is testable without a clock.
 */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: RateLimit) {}

  /** Takes one token; returns 0 when allowed, else the seconds to wait before the next token. */
  take(key: string, nowMs: number): number {
    if (this.limit.perSecond <= 0) return 0; // disabled
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: nowMs };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * this.limit.perSecond);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.limit.perSecond);
  }

  /**
   * Forgets buckets that have refilled to `burst` (their next `take` would start full anyway), so buckets keyed by
   * client address do not grow without bound.
   */
  prune(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((nowMs - bucket.at) / 1000) * this.limit.perSecond >= this.limit.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
