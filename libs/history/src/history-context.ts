import { BusinessClock } from './business-clock.js';
import type { CommandActor, CommandBody, CommandPayloads, CommandType, HistoryItem, ImportLine } from './commands.js';
import type { HistoryOptions } from './options.js';
import { SeededRandom } from './seeded-random.js';
import { NONE, TenantShadow, type OrgShadow } from './shadow-state.js';
import { orgProfile, userIdentity } from './vocabulary.js';

const DAY = 86_400_000;
export const SCIM: CommandActor = Object.freeze({ kind: 'scim' });
export const SYSTEM: CommandActor = Object.freeze({ kind: 'system' });
export const PLATFORM: CommandActor = Object.freeze({ kind: 'platform' });
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * What every activity works with: the options, the seeded randomness, the shadow state, the clock, and `emit`, which
 * stamps a command with the next instant and queues it for the generator to yield.
 */
export class HistoryContext {
  readonly rng: SeededRandom;
  readonly state: TenantShadow;
  clock: BusinessClock;
  /** Where the history starts; the steady state's clock starts after the setup burst. */
  readonly startMs: number;
  /** While true (organization setup) commands follow each other a second or two apart, like a bootstrap script. */
  private burst = true;
  readonly queue: HistoryItem[] = [];
  readonly userIds: string[];
  readonly emails: string[];
  /** Commands emitted so far (refused attempts included). */
  count = 0;
  /** occurredAt (ms) of the last command emitted. */
  now: number;
  refusedCount = 0;
  private nowIso = '';
  private nowIsoMs = -1;
  private dayStart = -1;
  private dayPrefix = '';
  private readonly keyPrefix: string;
  private readonly memberActors: CommandActor[][] = [];

  constructor(
    readonly options: HistoryOptions,
    readonly total: number,
  ) {
    this.rng = new SeededRandom(options.seed);
    const profiles = Array.from({ length: options.orgs }, (_, o) => orgProfile(o));
    this.state = new TenantShadow(profiles, options.users, options.groups);
    this.startMs = Date.parse(options.start);
    this.clock = new BusinessClock(this.startMs, BusinessClock.endOf(options.start, options.years), total);
    this.now = this.startMs;
    this.keyPrefix = `h${options.seed}-`;
    const width = Math.max(5, String(options.users).length);
    this.userIds = new Array<string>(options.users);
    this.emails = new Array<string>(options.users);
    for (let u = 0; u < options.users; u++) {
      const who = userIdentity(u, width);
      this.userIds[u] = who.id;
      this.emails[u] = who.email;
    }
  }

  /** The setup burst is over: the remaining commands spread over the rest of the years. */
  endBurst(): void {
    this.burst = false;
    this.clock = new BusinessClock(
      this.now + 60_000,
      BusinessClock.endOf(this.options.start, this.options.years),
      Math.max(1, this.total - this.count),
      this.count,
    );
  }

  /** How far through the history we are, 0 … 1. */
  get progress(): number {
    return this.count / this.total;
  }

  emit<T extends CommandType>(type: T, actor: CommandActor, payload: CommandPayloads[T], refused?: true): void {
    const at = this.burst ? this.startMs + this.count * 1500 + (this.count % 3) * 250 : this.clock.instantOf(this.count);
    if (at !== this.nowIsoMs) {
      this.nowIsoMs = at;
      this.nowIso = this.iso(at);
    }
    this.now = at;
    const command = { type, actor, occurredAt: this.nowIso, idempotencyKey: this.keyPrefix + this.count, payload } as CommandBody;
    this.count++;
    if (refused) {
      this.refusedCount++;
      this.queue.push({ kind: 'command', command, refused });
    } else {
      this.queue.push({ kind: 'command', command });
    }
  }

  /** Date.toISOString, without a Date per command: the day's prefix is cached, the time of day is table lookups. */
  private iso(ms: number): string {
    if (ms < this.dayStart || ms >= this.dayStart + DAY) {
      this.dayStart = ms - (ms % DAY);
      this.dayPrefix = new Date(this.dayStart).toISOString().slice(0, 11);
    }
    let r = ms - this.dayStart;
    const h = Math.floor(r / 3_600_000);
    r -= h * 3_600_000;
    const m = Math.floor(r / 60_000);
    r -= m * 60_000;
    const s = Math.floor(r / 1000);
    return `${this.dayPrefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}.${THREE_DIGITS[r - s * 1000]}Z`;
  }

  importBatch(lines: ImportLine[]): void {
    this.queue.push({ kind: 'import', lines });
  }

  // ---- actors (R22, R24)

  /** Actors are shared, frozen objects: one per (organization, user), built on first use. */
  member(o: number, u: number): CommandActor {
    let byUser = this.memberActors[o];
    if (byUser === undefined) byUser = this.memberActors[o] = new Array<CommandActor>(this.options.users);
    return (byUser[u] ??= Object.freeze({ kind: 'member', orgId: this.state.orgs[o]!.id, userId: this.userIds[u]! }) as CommandActor);
  }

  /** An owner (or the primary owner) of o, other than `not`: holds every right R22 lists except primary-ownership transfer. */
  ownerOf(o: number, not: number = NONE): number {
    const org = this.state.orgs[o]!;
    const n = org.owners.size + 1;
    for (let tries = 0; tries < 4; tries++) {
      const i = this.rng.int(n);
      const u = i < org.owners.size ? org.owners.items[i]! : org.primaryOwner;
      if (u !== not) return u;
    }
    return org.primaryOwner !== not ? org.primaryOwner : (org.owners.items.find((x) => x !== not) ?? org.primaryOwner);
  }

  ownerActor(o: number, not: number = NONE): CommandActor {
    return this.member(o, this.ownerOf(o, not));
  }

  /** An admin of o (user_management = manage, R21), falling back to an owner. */
  adminActor(o: number): CommandActor {
    const org = this.state.orgs[o]!;
    const u = org.admins.pick(this.rng.next());
    return u === undefined ? this.ownerActor(o) : this.member(o, u);
  }

  /** Who adds, suspends, reactivates and removes `user`/`custom` members: SCIM in a scim organization, else an admin. */
  provisioningActor(o: number): CommandActor {
    return this.state.orgs[o]!.mode === 'scim' ? SCIM : this.adminActor(o);
  }

  /** Manual groups are edited by an owner of some organization; SCIM groups only by the SCIM client (R33). */
  groupActor(g: number): CommandActor {
    if (this.state.groups[g]!.scim) return SCIM;
    return this.ownerActor(this.rng.int(this.state.orgs.length));
  }

  randomOrg(): OrgShadow {
    return this.rng.pick(this.state.orgs);
  }
}
