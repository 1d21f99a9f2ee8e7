import type { ImportLine } from './commands.js';
import type { HistoryContext } from './history-context.js';

/**
 * Late, out-of-order facts (R61): batches for `events:import` whose occurredAt lies before commands already yielded.
 * They are chosen so that they hold in either order — a late SCIM sync only touches users whose group memberships
 * have not changed since its instant, by users and groups that existed then and still exist; a Console import only
 * brings a key created and revoked in the past — so the history stays valid whether folded in arrival or occurredAt
 * order.
 */
const MINUTE = 60_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function lateImport(ctx: HistoryContext, batch: number): boolean {
  return batch % 3 === 2 ? consoleImport(ctx, batch) : scimLateSync(ctx, batch);
}

function pastInstant(ctx: HistoryContext): number {
  const delta = 30 * MINUTE + ctx.rng.int(6 * 24 * 60) * MINUTE;
  return Math.max(ctx.startMs + 1, ctx.now - delta);
}

function scimLateSync(ctx: HistoryContext, batch: number): boolean {
  const { state, rng } = ctx;
  const past = pastInstant(ctx);
  if (past + 20_000 >= ctx.now) return false;
  const lines: ImportLine[] = [];
  const quiet = (u: number) => state.lastGroupChange[u]! < past;
  const eligibleGroup = (g: number) => {
    const group = state.groups[g]!;
    return group.live && group.scim && !group.mapped && group.createdAt < past;
  };
  const adds = rng.between(2, 6);
  const removes = rng.int(3);
  for (let tries = 0; tries < 400 && lines.length < adds + removes; tries++) {
    const g = state.liveGroups.pick(rng.next());
    if (g === undefined || !eligibleGroup(g)) continue;
    const group = state.groups[g]!;
    const adding = lines.length < adds;
    const u = adding ? state.known.pick(rng.next()) : group.members.pick(rng.next());
    if (u === undefined || state.firstJoined[u]! >= past || !quiet(u)) continue;
    if (adding && !state.mayJoinGroup(g, u)) continue;
    const at = past + lines.length * 1000 + rng.int(1000);
    lines.push({
      id: `imp-${ctx.options.seed}-${batch}-${lines.length}`,
      type: adding ? 'UserAddedToGroup' : 'UserRemovedFromGroup',
      occurredAt: iso(at),
      actor: { kind: 'scim' },
      source: 'scim',
      data: { groupId: group.id, userId: ctx.userIds[u]! },
    });
    // From now on the shadow state includes the late fact, and no later import may cross it.
    if (adding) state.joinGroup(g, u, ctx.now);
    else state.leaveGroup(g, u, ctx.now);
  }
  if (lines.length === 0) return false;
  ctx.importBatch(lines);
  return true;
}

function consoleImport(ctx: HistoryContext, batch: number): boolean {
  const { state, rng } = ctx;
  const created = pastInstant(ctx);
  const revoked = created + Math.floor((ctx.now - created) / 2);
  if (revoked >= ctx.now) return false;
  for (let tries = 0; tries < 50; tries++) {
    const org = ctx.randomOrg();
    const w = org.workspaces.pick(rng.next());
    const u = org.regular.pick(rng.next());
    if (w === undefined || u === undefined) continue;
    const workspace = state.workspaces[w]!;
    if (workspace.createdAt >= created || org.memberSince[u]! >= created) continue;
    const apiKeyId = `key-import-${ctx.options.seed}-${batch}`;
    const key = { orgId: org.id, workspaceId: workspace.id, apiKeyId };
    ctx.importBatch([
      {
        id: `imp-${ctx.options.seed}-${batch}-0`,
        type: 'ApiKeyCreated',
        occurredAt: iso(created),
        actor: { kind: 'import' },
        source: 'console_import',
        data: { ...key, name: `legacy-${ctx.userIds[u]}`, createdBy: ctx.userIds[u]! },
      },
      {
        id: `imp-${ctx.options.seed}-${batch}-1`,
        type: 'ApiKeyRevoked',
        occurredAt: iso(revoked),
        actor: { kind: 'import' },
        source: 'console_import',
        data: key,
      },
    ]);
    return true;
  }
  return false;
}
