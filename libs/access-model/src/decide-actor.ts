import { adminLevelOf, memberCore, rolePaths, type MemberCore, type RolePaths } from './evaluate.js';
import { lookupKey, type MemberStatus } from './fact-keys.js';
import type { FactReader } from './facts.js';
import { isOwner, type AdminArea, type BuiltInRole, type ConsoleRole, type WorkspaceRole } from './vocabulary.js';

/**
 * A member actor's rights at the instant a command takes effect (R22), read through the evaluator but only for the
 * area a command needs: never the member's whole access (the seeding benchmark decides millions of commands).
 */
export class ActingMember {
  private core: MemberCore | undefined;
  private paths: RolePaths | undefined;

  private constructor(
    private readonly r: FactReader,
    readonly orgId: string,
    readonly userId: string,
    readonly role: BuiltInRole,
  ) {}

  /** The actor as a member of `orgId`, or undefined when they are not an active member of it (R22). */
  static of(r: FactReader, orgId: string, userId: string): ActingMember | undefined {
    if (r.value<MemberStatus>(lookupKey.memberStatus(orgId, userId)) !== 'active') return undefined;
    const role = r.value<BuiltInRole>(lookupKey.memberRole(orgId, userId));
    return role === undefined ? undefined : new ActingMember(r, orgId, userId, role);
  }

  isOwner(): boolean {
    return isOwner(this.role);
  }

  isPrimaryOwner(): boolean {
    return this.role === 'primary_owner';
  }

  /**
   * R20, R21: the effective level of one admin area is `manage`. Owners manage every area (R21); anyone else is
   * asked of the evaluator, a custom member's role paths read once, lazily.
   */
  manages(area: AdminArea): boolean {
    if (this.isOwner()) return true;
    this.core ??= memberCore(this.r, this.orgId, this.userId);
    if (this.core === undefined) return false;
    if (this.core.role === 'custom') this.paths ??= rolePaths(this.r, this.orgId, this.userId);
    return adminLevelOf(this.r, this.core, area, this.paths ?? NO_PATHS).level === 'manage';
  }

  consoleRole(): ConsoleRole | null {
    return this.r.value<ConsoleRole | null>(lookupKey.consoleRole(this.orgId, this.userId)) ?? null;
  }

  /**
   * Decision: Console administration (Console roles, workspaces, workspace roles, keys on behalf of others) needs
   * the Console `admin` role (R50: "manage members and their roles") or `user_management` = manage (R22: members).
   */
  isConsoleManager(): boolean {
    return this.consoleRole() === 'admin' || this.manages('user_management');
  }

  /** R50–R52: `manage_api_keys` in one workspace (Console developer/admin, or workspace developer/admin there). */
  managesApiKeysIn(workspaceId: string): boolean {
    return managesApiKeys(this.r, this.orgId, this.userId, workspaceId);
  }

  /** R52: `workspace_admin` manages the members of its workspace; R51: Console admins are workspace admins everywhere. */
  managesWorkspaceMembersOf(workspaceId: string): boolean {
    return (
      this.consoleRole() === 'admin' || this.r.value<WorkspaceRole | null>(lookupKey.workspaceRole(this.orgId, workspaceId, this.userId)) === 'workspace_admin'
    );
  }
}

const NO_PATHS: RolePaths = { paths: [], excluded: [] };

export function managesApiKeys(r: FactReader, orgId: string, userId: string, workspaceId: string): boolean {
  const consoleRole = r.value<ConsoleRole | null>(lookupKey.consoleRole(orgId, userId));
  if (consoleRole === 'developer' || consoleRole === 'admin') return true;
  const wsRole = r.value<WorkspaceRole | null>(lookupKey.workspaceRole(orgId, workspaceId, userId));
  return wsRole === 'workspace_developer' || wsRole === 'workspace_admin';
}
