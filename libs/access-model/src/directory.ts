import { capabilityCatalog } from './evaluate.js';
import { lookupKey, type MemberStatus } from './fact-keys.js';
import { FactReader, type FactStore, type View } from './facts.js';
import { ADMIN_AREAS, ADMIN_LEVELS, TOOL_LEVELS, type BuiltInRole, type ProvisioningMode, type Seat } from './vocabulary.js';

/**
 * What there is to ask about (discovery, docs/api.md § Routes): the organizations, members and catalog at an instant as known
 * at another, so that a client learns the ids it may ask for instead of guessing them.
 */

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface OrganizationEntry {
  readonly orgId: string;
  readonly name: string;
  readonly dualSeat: boolean;
  readonly usageBased: boolean;
  readonly provisioningMode: ProvisioningMode | null;
  readonly createdAt: string;
}

/** The organizations that exist at the view's instant, sorted by orgId. */
export function organizationsAt(facts: FactStore, view: View): OrganizationEntry[] {
  const r = new FactReader(facts, view);
  const orgs: OrganizationEntry[] = [];
  for (const orgId of r.items(lookupKey.orgs)) {
    const org = r.get<{ name: string; dualSeat: boolean; usageBased: boolean }>(lookupKey.org(orgId));
    if (org === undefined || org.value === null) continue;
    orgs.push({
      orgId,
      name: org.value.name,
      dualSeat: org.value.dualSeat === true,
      usageBased: org.value.usageBased === true,
      provisioningMode: r.value<ProvisioningMode>(lookupKey.orgMode(orgId)) ?? null,
      createdAt: org.ev.occurredAt, // only OrganizationCreated writes it
    });
  }
  return orgs.sort((a, b) => byId(a.orgId, b.orgId));
}

export interface MemberEntry {
  readonly userId: string;
  readonly email: string | null;
  readonly role: BuiltInRole;
  readonly seat: Seat | null;
  readonly status: MemberStatus;
}

/** Every member of the organization at the view's instant (removed ones with status `removed`), sorted by userId. */
export function membersAt(facts: FactStore, view: View, orgId: string): MemberEntry[] {
  const r = new FactReader(facts, view);
  const members: MemberEntry[] = [];
  for (const userId of r.items(lookupKey.members(orgId))) {
    const role = r.value<BuiltInRole>(lookupKey.memberRole(orgId, userId));
    const status = r.value<MemberStatus>(lookupKey.memberStatus(orgId, userId));
    if (role === undefined || status === undefined) continue;
    members.push({
      userId,
      email: r.value<string>(lookupKey.memberEmail(orgId, userId)) ?? null,
      role,
      seat: r.value<Seat | null>(lookupKey.memberSeat(orgId, userId)) ?? null,
      status,
    });
  }
  return members.sort((a, b) => byId(a.userId, b.userId));
}

export interface OrganizationCatalog {
  /** Every capability of the tenant's catalog, with whether this organization has it switched on. */
  readonly capabilities: readonly { readonly capability: string; readonly enabled: boolean; readonly platformDisabled: boolean }[];
  /** The organization's connectors that exist at the instant, each with its tools (removed tools left out). */
  readonly connectors: readonly { readonly connectorId: string; readonly name: string; readonly tools: readonly string[] }[];
  readonly customRoles: readonly { readonly roleId: string; readonly name: string }[];
  readonly adminAreas: readonly string[];
  readonly adminLevels: readonly string[];
  readonly toolLevels: readonly string[];
}

/** The names an access question may use for this organization at the view's instant. */
export function catalogAt(facts: FactStore, view: View, orgId: string): OrganizationCatalog {
  const r = new FactReader(facts, view);
  const capabilities = capabilityCatalog(r)
    .sort(byId)
    .map((capability) => ({
      capability,
      enabled: r.value<boolean>(lookupKey.orgCapability(orgId, capability)) === true,
      platformDisabled: r.value<boolean>(lookupKey.platformOverride(orgId, capability)) === true,
    }));
  const connectors = [];
  for (const connectorId of [...r.items(lookupKey.connectors(orgId))].sort(byId)) {
    const connector = r.value<{ name: string } | null>(lookupKey.connector(orgId, connectorId));
    if (!connector) continue;
    const tools = [...r.items(lookupKey.tools(orgId, connectorId))].filter((t) => r.value<boolean>(lookupKey.tool(orgId, connectorId, t)) === true).sort(byId);
    connectors.push({ connectorId, name: connector.name, tools });
  }
  const customRoles = [];
  for (const roleId of [...r.items(lookupKey.roles(orgId))].sort(byId)) {
    if (r.value<boolean | null>(lookupKey.role(orgId, roleId)) !== true) continue;
    customRoles.push({ roleId, name: r.value<string>(lookupKey.roleName(orgId, roleId)) ?? roleId });
  }
  return { capabilities, connectors, customRoles, adminAreas: [...ADMIN_AREAS], adminLevels: [...ADMIN_LEVELS], toolLevels: [...TOOL_LEVELS] };
}
