import type { HistoryContext } from './history-context.js';
import { IndexedSet } from './indexed-set.js';
import { connectorKind } from './vocabulary.js';

/** Connectors and their tools, and the organization-wide tool policy (R10): all owners' business (R22). */

export function addConnector(ctx: HistoryContext, o: number): boolean {
  const { state, rng, options } = ctx;
  const org = state.orgs[o]!;
  if (org.connectorsAdded >= options.connectors) return false;
  // Organizations add connectors in different orders, from the same catalog of products.
  const kind = connectorKind((o * 3 + org.connectorsAdded) % options.connectors, rng);
  org.connectorsAdded++;
  const n = Math.min(kind.tools.length, Math.max(1, options.toolsPerConnector + rng.between(-1, 1)));
  const c = state.connectors.length;
  const tools = new IndexedSet();
  for (let t = 0; t < n; t++) tools.add(t);
  state.connectors.push({ id: kind.id, org: o, kind, live: true, tools, nextTool: n });
  org.connectors.add(c);
  ctx.emit('AddConnector', ctx.ownerActor(o), { orgId: org.id, connectorId: kind.id, name: kind.name, tools: kind.tools.slice(0, n) });
  // A few tools need approval or are blocked for everyone from the start.
  const restricted = rng.int(3);
  for (let i = 0; i < restricted; i++) setToolPolicy(ctx, c, rng.chance(0.7) ? 'needs_approval' : 'blocked');
  return true;
}

function setToolPolicy(ctx: HistoryContext, c: number, level: 'blocked' | 'needs_approval' | 'always_allow', everyTool = false): void {
  const connector = ctx.state.connectors[c]!;
  const t = connector.tools.pick(ctx.rng.next());
  if (t === undefined) return;
  const org = ctx.state.orgs[connector.org]!;
  ctx.emit('SetOrgToolPolicy', ctx.ownerActor(connector.org), {
    orgId: org.id,
    connectorId: connector.id,
    toolName: everyTool ? '*' : connector.kind.tools[t]!,
    level,
  });
}

const WEIGHTS = [22, 12, 52, 3];

export function connectorActivity(ctx: HistoryContext): boolean {
  const { state, rng, options } = ctx;
  const org = ctx.randomOrg();
  const want = Math.ceil(options.connectors * (0.5 + 0.5 * ctx.progress));
  if (org.connectorsAdded < want) return addConnector(ctx, org.index);
  const c = org.connectors.pick(rng.next());
  if (c === undefined) return false;
  const connector = state.connectors[c]!;
  const o = org.index;
  switch (rng.weighted(WEIGHTS, 89)) {
    case 0: {
      const k = Math.min(1 + rng.int(2), connector.kind.tools.length - connector.nextTool);
      if (k <= 0) return false;
      const tools: string[] = [];
      for (let i = 0; i < k; i++) {
        connector.tools.add(connector.nextTool);
        tools.push(connector.kind.tools[connector.nextTool++]!);
      }
      ctx.emit('AddConnectorTools', ctx.ownerActor(o), { orgId: org.id, connectorId: connector.id, tools });
      return true;
    }
    case 1: {
      if (connector.tools.size <= 4) return false;
      const t = connector.tools.pick(rng.next())!;
      connector.tools.delete(t);
      ctx.emit('RemoveConnectorTools', ctx.ownerActor(o), { orgId: org.id, connectorId: connector.id, tools: [connector.kind.tools[t]!] });
      return true;
    }
    case 2: {
      const r = rng.next();
      setToolPolicy(ctx, c, r < 0.45 ? 'needs_approval' : r < 0.65 ? 'blocked' : 'always_allow', rng.chance(0.08));
      return true;
    }
    default:
      return removeConnector(ctx, c);
  }
}

/** R18: a removed connector is blocked for everyone; its id is never reused here. Organizations keep at least two. */
export function removeConnector(ctx: HistoryContext, c: number): boolean {
  const connector = ctx.state.connectors[c]!;
  const org = ctx.state.orgs[connector.org]!;
  if (org.connectors.size <= 2) return false;
  ctx.emit('RemoveConnector', ctx.ownerActor(org.index), { orgId: org.id, connectorId: connector.id });
  connector.live = false;
  org.connectors.delete(c);
  return true;
}

export function enableConnectorPermissions(ctx: HistoryContext, o: number): void {
  const org = ctx.state.orgs[o]!;
  if (org.connectorPermissions) return;
  ctx.emit('EnableConnectorPermissions', ctx.ownerActor(o), { orgId: org.id });
  org.connectorPermissions = true;
}
