import type { ProvisioningMode } from './commands.js';
import type { SeededRandom } from './seeded-random.js';

/** Names that make a generated history read like an enterprise's: organizations, teams, roles, connectors, tools. */

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
/** Capabilities the platform adds to the catalog during the history (R3). */
export const LATER_CAPABILITIES = ['voice_mode', 'browser_agent'] as const;

export const ADMIN_AREAS = ['identity_access', 'billing', 'analytics', 'privacy', 'user_management', 'libraries'] as const;
export const ADMIN_LEVELS = ['none', 'view', 'manage'] as const;
export const TOOL_LEVELS = ['blocked', 'needs_approval', 'always_allow'] as const;
export const CONNECTOR_ROW_LEVELS = ['blocked', 'needs_approval', 'always_allow', 'custom'] as const;
export const BUILT_IN_ROLES = ['primary_owner', 'owner', 'admin', 'user', 'custom'] as const;
export const CONSOLE_ROLES = ['user', 'claude_code_user', 'developer', 'billing', 'admin'] as const;
export const WORKSPACE_ROLES = ['workspace_user', 'workspace_developer', 'workspace_admin', 'workspace_billing'] as const;

const ORGS: readonly [string, string][] = [
  ['eng', 'Engineering'],
  ['sales', 'Sales'],
  ['research', 'Research'],
  ['support', 'Customer Support'],
  ['finance', 'Finance'],
  ['legal', 'Legal'],
  ['marketing', 'Marketing'],
  ['ops', 'Operations'],
];

export interface OrgProfile {
  id: string;
  name: string;
  mode: ProvisioningMode;
  dualSeat: boolean;
  usageBased: boolean;
  /** Relative size: how many of the tenant's users this organization attracts. */
  weight: number;
}

/** Organization o of the tenant: the first is a SCIM, dual-seat one; the others rotate through jit and invite_only. */
export function orgProfile(o: number): OrgProfile {
  const [slug, name] = ORGS[o] ?? [`unit${o}`, `Business Unit ${o}`];
  const modes: ProvisioningMode[] = ['scim', 'jit', 'invite_only', 'scim'];
  return {
    id: `acme-${slug}`,
    name: `Acme ${name}`,
    mode: modes[o % modes.length]!,
    dualSeat: o % 2 === 0,
    usageBased: o !== 1,
    weight: 1 / (1 + o * 0.6),
  };
}

const AREAS = [
  'Engineering',
  'Sales',
  'Research',
  'Support',
  'Finance',
  'Legal',
  'Marketing',
  'Operations',
  'Design',
  'Data',
  'Security',
  'People',
  'IT',
  'Product',
];
const TEAMS = [
  'Platform',
  'Payments',
  'EMEA',
  'APAC',
  'Americas',
  'Mobile',
  'Web',
  'Infrastructure',
  'Analytics',
  'Enablement',
  'Core',
  'Growth',
  'Tooling',
  'Compliance',
  'Onboarding',
  'Partnerships',
  'Leads',
  'Contractors',
];

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function groupName(g: number): { id: string; name: string } {
  if (g === 0) return { id: 'g-all-staff', name: 'All staff' };
  const a = g % AREAS.length;
  const k = Math.floor(g / AREAS.length);
  const area = AREAS[a]!;
  // Shifted by area so the first groups are not all "… Platform"; still one (area, team) pair per round.
  const team = TEAMS[(k + 5 * a) % TEAMS.length]!;
  const round = Math.floor(g / (AREAS.length * TEAMS.length));
  const name = round === 0 ? `${area} ${team}` : `${area} ${team} ${round + 1}`;
  return { id: `g-${slug(name)}-${g}`, name };
}

const ROLE_NAMES = [
  'Claude Code developers',
  'Researchers',
  'Analysts',
  'Support agents',
  'Sales representatives',
  'Finance reviewers',
  'Legal reviewers',
  'Data scientists',
  'Designers',
  'Security reviewers',
  'Contractors',
  'Interns',
  'Team leads',
  'Power users',
  'Library curators',
  'Billing administrators',
  'Identity administrators',
  'Analytics viewers',
  'Writers',
  'Recruiters',
  'Product managers',
  'Site reliability',
  'QA engineers',
  'Executives',
];

export function roleName(n: number): string {
  const base = ROLE_NAMES[n % ROLE_NAMES.length]!;
  const round = Math.floor(n / ROLE_NAMES.length);
  return round === 0 ? base : `${base} ${round + 1}`;
}

/** Connectors: id, display name, and the nouns their tools act on. */
const CONNECTORS: readonly [string, string, string[]][] = [
  ['jira', 'Jira', ['issue', 'project', 'sprint', 'board', 'comment', 'worklog']],
  ['confluence', 'Confluence', ['page', 'space', 'comment', 'attachment', 'blogpost']],
  ['slack', 'Slack', ['channel', 'message', 'thread', 'user', 'file', 'reaction']],
  ['github', 'GitHub', ['repository', 'pull_request', 'issue', 'commit', 'branch', 'review']],
  ['google-drive', 'Google Drive', ['file', 'folder', 'permission', 'comment', 'revision']],
  ['gmail', 'Gmail', ['message', 'thread', 'draft', 'label']],
  ['google-calendar', 'Google Calendar', ['event', 'calendar', 'attendee']],
  ['notion', 'Notion', ['page', 'database', 'block', 'comment']],
  ['salesforce', 'Salesforce', ['account', 'opportunity', 'contact', 'lead', 'case', 'report']],
  ['zendesk', 'Zendesk', ['ticket', 'user', 'macro', 'view', 'article']],
  ['linear', 'Linear', ['issue', 'project', 'cycle', 'team', 'comment']],
  ['asana', 'Asana', ['task', 'project', 'section', 'comment']],
  ['hubspot', 'HubSpot', ['contact', 'deal', 'company', 'ticket']],
  ['box', 'Box', ['file', 'folder', 'collection', 'comment']],
  ['sentry', 'Sentry', ['issue', 'event', 'release', 'project']],
  ['datadog', 'Datadog', ['monitor', 'dashboard', 'log', 'incident', 'metric']],
  ['snowflake', 'Snowflake', ['table', 'query', 'warehouse', 'schema']],
  ['figma', 'Figma', ['file', 'comment', 'component', 'project']],
  ['servicenow', 'ServiceNow', ['incident', 'change', 'problem', 'request']],
  ['sharepoint', 'SharePoint', ['site', 'list', 'document', 'page']],
];
const INTERNAL = ['wiki', 'hr-portal', 'expenses', 'crm', 'billing', 'deploys', 'feature-flags', 'oncall', 'legal-docs', 'procurement'];
const SINGLE_VERBS = ['get', 'create', 'update', 'delete', 'archive', 'export', 'share', 'assign'];
const PLURAL_VERBS = ['search', 'list'];

function plural(noun: string): string {
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}

export interface ConnectorKind {
  id: string;
  name: string;
  /** Every tool this connector could have, in a seeded order: the first ones come with it, later ones are added. */
  tools: string[];
}

/** The n-th connector kind, with its possible tools shuffled by `rng`. */
export function connectorKind(n: number, rng: SeededRandom): ConnectorKind {
  let id: string;
  let name: string;
  let nouns: string[];
  if (n < CONNECTORS.length) {
    [id, name, nouns] = CONNECTORS[n]!;
  } else {
    const k = n - CONNECTORS.length;
    const word = INTERNAL[k % INTERNAL.length]!;
    const round = Math.floor(k / INTERNAL.length);
    id = round === 0 ? `mcp-${word}` : `mcp-${word}-${round + 1}`;
    name = `Internal ${word.replace(/-/g, ' ')} MCP${round === 0 ? '' : ` ${round + 1}`}`;
    nouns = ['record', 'document', 'report', 'ticket', 'entry'];
  }
  const tools: string[] = [];
  for (const noun of nouns) {
    for (const v of PLURAL_VERBS) tools.push(`${v}_${plural(noun)}`);
    for (const v of SINGLE_VERBS) tools.push(`${v}_${noun}`);
  }
  return { id, name, tools: rng.shuffle(tools) };
}

const WORKSPACES = [
  'Default',
  'Production',
  'Staging',
  'Data pipeline',
  'Support bots',
  'Research sandbox',
  'Evaluations',
  'Internal tools',
  'Sales assist',
  'Docs search',
];

export function workspaceName(n: number): { slug: string; name: string } {
  const base = WORKSPACES[n % WORKSPACES.length]!;
  const round = Math.floor(n / WORKSPACES.length);
  const name = round === 0 ? base : `${base} ${round + 1}`;
  return { slug: slug(name), name };
}

const FIRST = [
  'maria',
  'james',
  'aiko',
  'wei',
  'fatima',
  'lucas',
  'sofia',
  'noah',
  'amara',
  'liam',
  'priya',
  'mateo',
  'elena',
  'omar',
  'chloe',
  'ivan',
  'leila',
  'kenji',
  'nora',
  'diego',
  'ana',
  'samir',
  'hannah',
  'tomas',
];
const LAST = [
  'garcia',
  'smith',
  'tanaka',
  'chen',
  'khan',
  'silva',
  'rossi',
  'muller',
  'okafor',
  'nguyen',
  'patel',
  'lopez',
  'novak',
  'haddad',
  'martin',
  'petrov',
  'kim',
  'larsen',
  'dubois',
  'cohen',
];

export function userIdentity(u: number, width: number): { id: string; email: string } {
  const n = String(u + 1).padStart(width, '0');
  const first = FIRST[u % FIRST.length]!;
  const last = LAST[Math.floor(u / FIRST.length) % LAST.length]!;
  return { id: `u-${n}`, email: `${first}.${last}.${n}@acme.example` };
}
