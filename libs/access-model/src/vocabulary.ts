import { z } from 'zod';

/** §2 Levels and catalogs of access-model.md, as data. */

export const BuiltInRole = z.enum(['primary_owner', 'owner', 'admin', 'user', 'custom']);
export type BuiltInRole = z.infer<typeof BuiltInRole>;

/** The capability catalog a tenant starts with; events may add more (R3), so capabilities are strings, not an enum. */
export const INITIAL_CAPABILITIES = [
  'chat',
  'web_search',
  'memory',
  'projects',
  'artifacts',
  'file_creation',
  'code_execution',
  'cowork',
  'claude_code',
  'fast_mode',
  'research',
] as const;
export const CapabilityName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case, e.g. web_search');

export const TOOL_LEVELS = ['blocked', 'needs_approval', 'always_allow'] as const;
export const ToolLevel = z.enum(TOOL_LEVELS);
export type ToolLevel = z.infer<typeof ToolLevel>;
/** A connector row of a role: one of the three levels, or `custom` (per-tool rows). */
export const ConnectorRowLevel = z.enum([...TOOL_LEVELS, 'custom']);
export type ConnectorRowLevel = z.infer<typeof ConnectorRowLevel>;

export const ADMIN_AREAS = ['identity_access', 'billing', 'analytics', 'privacy', 'user_management', 'libraries'] as const;
export const AdminArea = z.enum(ADMIN_AREAS);
export type AdminArea = z.infer<typeof AdminArea>;
export const ADMIN_LEVELS = ['none', 'view', 'manage'] as const;
export const AdminLevel = z.enum(ADMIN_LEVELS);
export type AdminLevel = z.infer<typeof AdminLevel>;

export const Seat = z.enum(['chat', 'chat_claude_code']);
export type Seat = z.infer<typeof Seat>;
export const ProvisioningMode = z.enum(['invite_only', 'jit', 'scim']);
export type ProvisioningMode = z.infer<typeof ProvisioningMode>;
export const GroupSource = z.enum(['manual', 'scim']);
export type GroupSource = z.infer<typeof GroupSource>;
export const SpendingPrecedence = z.enum(['lowest', 'highest']);
export type SpendingPrecedence = z.infer<typeof SpendingPrecedence>;

export const ConsoleRole = z.enum(['user', 'claude_code_user', 'developer', 'billing', 'admin']);
export type ConsoleRole = z.infer<typeof ConsoleRole>;
export const WorkspaceRole = z.enum(['workspace_user', 'workspace_developer', 'workspace_admin', 'workspace_billing']);
export type WorkspaceRole = z.infer<typeof WorkspaceRole>;

/** Built-in roles a group mapping may assign (R32: never primary_owner). */
export const MappableRole = z.enum(['owner', 'admin', 'custom', 'user']);
export type MappableRole = z.infer<typeof MappableRole>;

export function toolRank(level: ToolLevel): number {
  return TOOL_LEVELS.indexOf(level);
}
export function adminRank(level: AdminLevel): number {
  return ADMIN_LEVELS.indexOf(level);
}
export function maxToolLevel(a: ToolLevel, b: ToolLevel): ToolLevel {
  return toolRank(a) >= toolRank(b) ? a : b;
}
export function minToolLevel(a: ToolLevel, b: ToolLevel): ToolLevel {
  return toolRank(a) <= toolRank(b) ? a : b;
}

/** R32 (decision): owner > admin > custom > user. */
const MAPPED_ROLE_ORDER: readonly MappableRole[] = ['user', 'custom', 'admin', 'owner'];
export function mappedRoleRank(role: MappableRole): number {
  return MAPPED_ROLE_ORDER.indexOf(role);
}

/** Roles for which custom roles have no effect (R4, R16, R21). */
export function isFullMember(role: BuiltInRole): boolean {
  return role !== 'custom';
}
export function isOwner(role: BuiltInRole | undefined): boolean {
  return role === 'owner' || role === 'primary_owner';
}
