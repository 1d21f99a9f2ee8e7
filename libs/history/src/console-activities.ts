import type { HistoryContext } from './history-context.js';
import { randomConsoleRole, setConsoleRole } from './member-activities.js';
import { IndexedSet } from './indexed-set.js';
import { WORKSPACE_ROLES, workspaceName } from './vocabulary.js';

/**
 * The Console side (R50–R53): owners (Console admins) manage Console and workspace roles and workspaces; members with
 * the developer or admin Console role create API keys themselves; keys outlive their creator's membership (R53).
 */

export function createWorkspace(ctx: HistoryContext, o: number): void {
  const { state } = ctx;
  const org = state.orgs[o]!;
  const { slug, name } = workspaceName(org.workspacesCreated++);
  const id = `ws-${org.profile.id.replace(/^acme-/, '')}-${slug}`;
  ctx.emit('CreateWorkspace', ctx.ownerActor(o), { orgId: org.id, workspaceId: id, name });
  const w = state.workspaces.length;
  state.workspaces.push({ id, org: o, createdAt: ctx.now, live: true, roles: new Map(), keys: new IndexedSet() });
  org.workspaces.add(w);
}

const KEY_PURPOSES = ['ci', 'backend', 'batch-jobs', 'eval-harness', 'support-bot', 'notebook', 'staging', 'prod', 'slack-bot', 'etl'];

function createApiKey(ctx: HistoryContext, o: number): boolean {
  const { state, rng } = ctx;
  const org = state.orgs[o]!;
  const w = org.workspaces.pick(rng.next());
  const creator = org.developers.pick(rng.next());
  if (w === undefined || creator === undefined) return false;
  const workspace = state.workspaces[w]!;
  const k = state.keyIds.length;
  const apiKeyId = `key-${k + 1}`;
  state.keyIds.push(apiKeyId);
  state.keyCreators.push(creator);
  workspace.keys.add(k);
  ctx.emit('CreateApiKey', ctx.member(o, creator), {
    orgId: org.id,
    workspaceId: workspace.id,
    apiKeyId,
    name: `${rng.pick(KEY_PURPOSES)}-${ctx.userIds[creator]}`,
    createdBy: ctx.userIds[creator]!,
  });
  return true;
}

function revokeApiKey(ctx: HistoryContext, w: number, k: number): void {
  const workspace = ctx.state.workspaces[w]!;
  ctx.emit('RevokeApiKey', ctx.ownerActor(workspace.org), {
    orgId: ctx.state.orgs[workspace.org]!.id,
    workspaceId: workspace.id,
    apiKeyId: ctx.state.keyIds[k]!,
  });
  workspace.keys.delete(k);
}

const WEIGHTS = [34, 30, 20, 12, 3, 1];

export function consoleActivity(ctx: HistoryContext): boolean {
  const { state, rng } = ctx;
  const org = ctx.randomOrg();
  const o = org.index;
  switch (rng.weighted(WEIGHTS, 100)) {
    case 0: {
      const u = org.regular.pick(rng.next());
      if (u === undefined) return false;
      const role = randomConsoleRole(ctx);
      if (role === org.consoleRole[u]) return false;
      setConsoleRole(ctx, o, u, role, ctx.ownerActor(o));
      return true;
    }
    case 1: {
      const w = org.workspaces.pick(rng.next());
      const u = org.regular.pick(rng.next());
      if (w === undefined || u === undefined) return false;
      const workspace = state.workspaces[w]!;
      const current = workspace.roles.get(u);
      const role = current !== undefined && rng.chance(0.3) ? null : rng.int(WORKSPACE_ROLES.length);
      if (role === current || (role === null && current === undefined)) return false;
      ctx.emit('SetWorkspaceRole', ctx.ownerActor(o), {
        orgId: org.id,
        workspaceId: workspace.id,
        userId: ctx.userIds[u]!,
        role: role === null ? null : WORKSPACE_ROLES[role]!,
      });
      if (role === null) workspace.roles.delete(u);
      else workspace.roles.set(u, role);
      return true;
    }
    case 2:
      return createApiKey(ctx, o);
    case 3: {
      const w = org.workspaces.pick(rng.next());
      if (w === undefined) return false;
      const k = state.workspaces[w]!.keys.pick(rng.next());
      if (k === undefined) return false;
      revokeApiKey(ctx, w, k);
      return true;
    }
    case 4:
      if (org.workspacesCreated >= 12) return false;
      createWorkspace(ctx, o);
      return true;
    default: {
      // Archiving: its keys are revoked first, then the workspace is never touched again.
      if (org.workspaces.size < 3) return false;
      const w = org.workspaces.pick(rng.next())!;
      const workspace = state.workspaces[w]!;
      while (workspace.keys.size > 0) revokeApiKey(ctx, w, workspace.keys.items[0]!);
      ctx.emit('ArchiveWorkspace', ctx.ownerActor(o), { orgId: org.id, workspaceId: workspace.id });
      workspace.live = false;
      org.workspaces.delete(w);
      return true;
    }
  }
}
