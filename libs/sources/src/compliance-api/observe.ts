import { INITIAL_CAPABILITIES } from '@access-ledger/access-model';
import { type ComplianceApiClient, ORG_SCOPE } from './client.js';
import { type ActivityEnvelope, linesOf, type MappingResult } from './mapping.js';

/**
 * A custom role "updated" (`custom_role_updated`, `role_id`): the activity says that the role changed, not to what.
 * At ingestion the role's current definition is read from the roles endpoint of the directory
 * (`GET /v1/compliance/organizations/{org_uuid}/roles`, Organizations, users, roles, and groups page; the item's
 * `id`, `name` and `capabilities` fields are our reading — docs/sources.md § What the reference did not say) and
 * recorded as observed: the name (`RoleRenamed`) and, for every capability of the initial catalog, whether the role
 * grants it (`RoleCapabilitySet`), at the activity's `created_at`, with
 * `evidence.observedAtIngestion = { at, directoryRecord }`. A role the directory no longer lists is rejected with the
 * reason (its definition cannot be observed).
 */
export function observeRoleUpdate(client: ComplianceApiClient, now: () => number = Date.now) {
  const cache = new Map<string, Promise<unknown[]>>();
  return async (raw: Record<string, unknown>, envelope: ActivityEnvelope): Promise<MappingResult> => {
    const org = envelope.organization_uuid;
    const roleId = typeof raw.role_id === 'string' ? raw.role_id : undefined;
    if (!org) return { disposition: 'rejected', reason: `${envelope.type}: missing organization_uuid`, lines: [] };
    if (!roleId) return { disposition: 'rejected', reason: `${envelope.type}: missing role_id`, lines: [] };
    let roles = cache.get(org);
    if (!roles) {
      roles = client.list(`/v1/compliance/organizations/${encodeURIComponent(org)}/roles`, ORG_SCOPE);
      cache.set(org, roles);
    }
    const role = (await roles).find((r) => (r as { id?: unknown }).id === roleId) as { id: string; name?: unknown; capabilities?: unknown } | undefined;
    if (!role)
      return {
        disposition: 'rejected',
        reason: `${envelope.type}: role ${roleId} is no longer in the directory; its new definition cannot be observed`,
        lines: [],
      };
    const events: { type: string; data: Record<string, unknown> }[] = [];
    if (typeof role.name === 'string' && role.name !== '') events.push({ type: 'RoleRenamed', data: { orgId: org, roleId, name: role.name } });
    if (Array.isArray(role.capabilities)) {
      const granted = new Set(role.capabilities.filter((c): c is string => typeof c === 'string'));
      for (const capability of INITIAL_CAPABILITIES)
        events.push({ type: 'RoleCapabilitySet', data: { orgId: org, roleId, capability, granted: granted.has(capability) } });
    }
    if (events.length === 0)
      return { disposition: 'rejected', reason: `${envelope.type}: the directory's role ${roleId} has neither a name nor capabilities`, lines: [] };
    return {
      disposition: 'mapped',
      // The record copied as plain JSON: the lines go to the ledger as objects (importLines), and the store's canonical
      // JSON takes plain objects only (the client's parsed response may come from another realm, as under jest).
      lines: linesOf(raw, envelope, org, events, {
        observedAtIngestion: { at: new Date(now()).toISOString(), directoryRecord: JSON.parse(JSON.stringify(role)) as unknown },
      }),
    };
  };
}
