/**
 * Turns "the i-th of N commands" into an instant: activity follows office hours (weekdays 08–19 UTC busy, nights and
 * weekends quiet), so the N commands spread over the years the way an enterprise's changes do. Instants never go
 * backwards (commands' occurredAt is non-decreasing) and have millisecond resolution.
 */
const HOUR = 3_600_000;

function hourWeight(hourOfWeek: number): number {
  const day = Math.floor(hourOfWeek / 24); // 0 = the weekday of the start instant's week, Monday-based below
  const hour = hourOfWeek % 24;
  const weekend = day >= 5;
  if (weekend) return 0.05;
  if (hour >= 8 && hour < 19) return hour === 12 ? 0.6 : 1;
  if (hour >= 6 && hour < 22) return 0.25;
  return 0.04; // nightly SCIM syncs and the odd late admin
}

export class BusinessClock {
  private readonly startMs: number;
  private readonly endMs: number;
  private readonly cumulative: Float64Array;
  private readonly perHour: Float64Array;
  private hour = 0;
  private last: number;

  /** Spreads commands number `first` … `first + total - 1` between `startMs` and `endMs`. */
  constructor(
    startMs: number,
    endMs: number,
    private readonly total: number,
    private readonly first = 0,
  ) {
    this.startMs = startMs;
    const hours = Math.max(1, Math.round((endMs - startMs) / HOUR));
    this.endMs = this.startMs + hours * HOUR;
    // Monday 00:00 UTC of the start's week anchors the weekly pattern.
    const startDay = (new Date(this.startMs).getUTCDay() + 6) % 7;
    const startHourOfWeek = startDay * 24 + new Date(this.startMs).getUTCHours();
    this.perHour = new Float64Array(hours);
    this.cumulative = new Float64Array(hours + 1);
    for (let h = 0; h < hours; h++) {
      this.perHour[h] = hourWeight((startHourOfWeek + h) % 168);
      this.cumulative[h + 1] = this.cumulative[h]! + this.perHour[h]!;
    }
    this.last = this.startMs;
  }

  /** Where a history of `years` from `start` ends. */
  static endOf(start: string, years: number): number {
    return Date.parse(start) + Math.max(1, Math.round(years * 365.25 * 24)) * HOUR;
  }

  get start(): number {
    return this.startMs;
  }

  get end(): number {
    return this.endMs;
  }

  /** The instant (ms) of command number `i` (0-based); non-decreasing in i. */
  instantOf(i: number): number {
    const hours = this.perHour.length;
    const target = ((Math.min(Math.max(0, i - this.first), this.total - 1) + 0.5) / this.total) * this.cumulative[hours]!;
    while (this.hour < hours - 1 && this.cumulative[this.hour + 1]! <= target) this.hour++;
    const within = (target - this.cumulative[this.hour]!) / this.perHour[this.hour]!;
    const t = Math.floor(this.startMs + (this.hour + Math.min(within, 0.999999)) * HOUR);
    if (t > this.last) this.last = t;
    return this.last;
  }
}
