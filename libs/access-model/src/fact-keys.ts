/**
 * The names of facts (facts.ts). One place, so that what evolve.ts writes and what the evaluator reads cannot drift.
 * `*` in a connector or tool position stands for "All connectors" / "every tool of the connector".
 */
export const K = {
  orgs: 'orgs',
  catalog: 'catalog',
  org: (o: string) => `org|${o}`,
  orgMode: (o: string) => `org|${o}|mode`,
  orgCapability: (o: string, c: string) => `org|${o}|cap|${c}`,
  platformOverride: (o: string, c: string) => `org|${o}|platform|${c}`,
  groupMappingsEnabled: (o: string) => `org|${o}|mappings`,
  spendingPrecedence: (o: string) => `org|${o}|precedence`,
  connectorPermissions: (o: string) => `org|${o}|connperm`,
  spendCeiling: (o: string) => `org|${o}|ceiling`,
  primaryOwner: (o: string) => `org|${o}|primary`,

  members: (o: string) => `members|${o}`,
  memberRole: (o: string, u: string) => `member|${o}|${u}|role`,
  memberSeat: (o: string, u: string) => `member|${o}|${u}|seat`,
  memberStatus: (o: string, u: string) => `member|${o}|${u}|status`,
  memberEmail: (o: string, u: string) => `member|${o}|${u}|email`,
  memberLimit: (o: string, u: string) => `member|${o}|${u}|limit`,
  consoleRole: (o: string, u: string) => `member|${o}|${u}|console`,
  userOrgs: (u: string) => `userorgs|${u}`,

  groups: 'groups',
  group: (g: string) => `group|${g}`,
  groupName: (g: string) => `group|${g}|name`,
  inGroup: (g: string, u: string) => `gm|${g}|${u}`,
  groupsOfUser: (u: string) => `usergroups|${u}`,
  usersOfGroup: (g: string) => `groupusers|${g}`,

  roles: (o: string) => `roles|${o}`,
  role: (o: string, r: string) => `role|${o}|${r}`,
  roleName: (o: string, r: string) => `role|${o}|${r}|name`,
  roleCapability: (o: string, r: string, c: string) => `role|${o}|${r}|cap|${c}`,
  roleAdmin: (o: string, r: string, a: string) => `role|${o}|${r}|admin|${a}`,
  roleConnector: (o: string, r: string, c: string) => `role|${o}|${r}|conn|${c}`,
  roleTool: (o: string, r: string, c: string, t: string) => `role|${o}|${r}|tool|${c}|${t}`,
  assigned: (o: string, g: string, r: string) => `assign|${o}|${g}|${r}`,
  rolesOfGroup: (o: string, g: string) => `assign|${o}|${g}`,
  mapping: (o: string, g: string) => `mapping|${o}|${g}`,
  mappings: (o: string) => `mappings|${o}`,

  connectors: (o: string) => `conns|${o}`,
  connector: (o: string, c: string) => `conn|${o}|${c}`,
  tools: (o: string, c: string) => `tools|${o}|${c}`,
  tool: (o: string, c: string, t: string) => `tool|${o}|${c}|${t}`,
  toolPolicy: (o: string, c: string, t: string) => `policy|${o}|${c}|${t}`,

  groupLimit: (o: string, g: string) => `glimit|${o}|${g}`,

  workspaces: (o: string) => `wss|${o}`,
  workspace: (o: string, w: string) => `ws|${o}|${w}`,
  workspaceRole: (o: string, w: string, u: string) => `wsrole|${o}|${w}|${u}`,
  workspacesOfUser: (o: string, u: string) => `userws|${o}|${u}`,
  apiKeys: (o: string) => `keys|${o}`,
  apiKey: (o: string, w: string, k: string) => `key|${o}|${w}|${k}`,
  apiKeyStatus: (o: string, w: string, k: string) => `key|${o}|${w}|${k}|status`,
} as const;

export type MemberStatus = 'active' | 'suspended' | 'removed';
export interface OrgFacts { readonly name: string; readonly dualSeat: boolean; readonly usageBased: boolean }
export interface GroupFacts { readonly source: 'manual' | 'scim' }
export interface ApiKeyFacts { readonly name: string; readonly createdBy: string; readonly workspaceId: string }
