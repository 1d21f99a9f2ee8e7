import { describe, expect, it } from '@jest/globals';
import { FactReader, accessOf, permissionsOf, type FactStore } from '../src/index.js';
import { acme, aConnector, aRole, as, ACME_PEOPLE } from './builders.js';
import { e, given, scim, system } from './given.js';

/** Connectors, tools and the organization-wide policy (R22: owners only; R10–R18; R62 references). */

const withJira = () => [acme(), aConnector('acme', 'jira', ['search_issues', 'create_issue'])].flat();
const jiraTools = (...tools: string[]) => ({ orgId: 'acme', connectorId: 'jira', tools });

describe('AddConnector', () => {
  const slack = { orgId: 'acme', connectorId: 'slack', name: 'Slack', tools: ['post'] };

  it.each(['po', 'owner'])('R22: %s adds a connector', (actor) => {
    given(acme()).when(as(actor).AddConnector(slack)).then(e.ConnectorAdded(slack));
  });

  it.each(['admin', 'idm', 'um', 'user'])('R22: %s (not an owner) is refused', (actor) => {
    given(acme())
      .when(as(actor).AddConnector(slack))
      .thenRefused('R22', /only owners/);
  });

  it('R62: a connector id that existed (removed since) is never reused → violation', () => {
    given(withJira(), e.ConnectorRemoved({ orgId: 'acme', connectorId: 'jira' }))
      .when(as('owner').AddConnector({ ...slack, connectorId: 'jira' }))
      .thenViolates('R62', /never reused/);
  });

  it('R24: scim may not add connectors; the system may', () => {
    given(acme()).when(scim.AddConnector(slack)).thenRefused('R24');
    given(acme()).when(system.AddConnector(slack)).then(e.ConnectorAdded(slack));
  });
});

describe('AddConnectorTools', () => {
  it('R22: an owner adds tools', () => {
    given(withJira())
      .when(as('owner').AddConnectorTools(jiraTools('delete_issue')))
      .then(e.ConnectorToolsAdded(jiraTools('delete_issue')));
  });

  it('R62: a tool the connector already has → violation', () => {
    given(withJira())
      .when(as('owner').AddConnectorTools(jiraTools('delete_issue', 'create_issue')))
      .thenViolates('R62', /already has create_issue/);
  });

  it('R18: a removed tool may be added back', () => {
    given(withJira(), e.ConnectorToolsRemoved(jiraTools('create_issue')))
      .when(as('owner').AddConnectorTools(jiraTools('create_issue')))
      .then(e.ConnectorToolsAdded(jiraTools('create_issue')));
  });

  it('R62: tools of an unknown connector → violation', () => {
    given(acme())
      .when(as('owner').AddConnectorTools(jiraTools('x')))
      .thenViolates('R62', /unknown connector jira/);
  });

  it('R22: an admin is refused', () => {
    given(withJira())
      .when(as('admin').AddConnectorTools(jiraTools('x')))
      .thenRefused('R22');
  });
});

describe('RemoveConnectorTools', () => {
  it('R18, R22: an owner removes a tool', () => {
    given(withJira())
      .when(as('owner').RemoveConnectorTools(jiraTools('create_issue')))
      .then(e.ConnectorToolsRemoved(jiraTools('create_issue')));
  });

  it('R62: an unknown tool, or one removed already → violation', () => {
    given(withJira())
      .when(as('owner').RemoveConnectorTools(jiraTools('nope')))
      .thenViolates('R62', /unknown tool nope/);
    given(withJira(), e.ConnectorToolsRemoved(jiraTools('create_issue')))
      .when(as('owner').RemoveConnectorTools(jiraTools('create_issue')))
      .thenViolates('R62', /unknown tool/);
  });

  it('R22: an identity manager is refused', () => {
    given(withJira())
      .when(as('idm').RemoveConnectorTools(jiraTools('create_issue')))
      .thenRefused('R22');
  });
});

describe('RemoveConnector', () => {
  it('R18, R22: an owner removes a connector; R62: then it is unknown', () => {
    given(withJira())
      .when(as('owner').RemoveConnector({ orgId: 'acme', connectorId: 'jira' }))
      .then(e.ConnectorRemoved({ orgId: 'acme', connectorId: 'jira' }));
    given(withJira(), e.ConnectorRemoved({ orgId: 'acme', connectorId: 'jira' }))
      .when(as('owner').RemoveConnector({ orgId: 'acme', connectorId: 'jira' }))
      .thenViolates('R62', /unknown connector/);
  });

  it('R22: an admin is refused', () => {
    given(withJira())
      .when(as('admin').RemoveConnector({ orgId: 'acme', connectorId: 'jira' }))
      .thenRefused('R22');
  });
});

describe('SetOrgToolPolicy', () => {
  const policy = (toolName: string, connectorId = 'jira') => ({ orgId: 'acme', connectorId, toolName, level: 'needs_approval' }) as const;

  it('R10, R22: an owner sets a tool, or every tool of a connector', () => {
    given(withJira())
      .when(as('owner').SetOrgToolPolicy(policy('search_issues')))
      .then(e.OrgToolPolicySet(policy('search_issues')));
    given(withJira())
      .when(as('owner').SetOrgToolPolicy(policy('*')))
      .then(e.OrgToolPolicySet(policy('*')));
  });

  it('R62: an unknown tool or connector → violation', () => {
    given(withJira())
      .when(as('owner').SetOrgToolPolicy(policy('nope')))
      .thenViolates('R62', /unknown tool/);
    given(withJira())
      .when(as('owner').SetOrgToolPolicy(policy('*', 'slack')))
      .thenViolates('R62', /unknown connector slack/);
  });

  it('R22: an admin is refused', () => {
    given(withJira())
      .when(as('admin').SetOrgToolPolicy(policy('*')))
      .thenRefused('R22', /only owners/);
  });
});

describe('EnableConnectorPermissions', () => {
  const seed = (roleId: string) => e.RoleConnectorPermissionSet({ orgId: 'acme', roleId, connectorId: '*', level: 'always_allow' });

  it('R12: seeds every existing custom role with "All connectors" = always_allow, each caused by the enabling event', () => {
    given(withJira(), aRole('acme', 'r-gone'), e.RoleDeleted({ orgId: 'acme', roleId: 'r-gone' }))
      .when(as('owner').EnableConnectorPermissions({ orgId: 'acme' }))
      .then(e.ConnectorPermissionsEnabled({ orgId: 'acme' }), seed('r-cm'), seed('r-idm'), seed('r-um'), seed('r-bm'));
  });

  it('R12: an organization without custom roles gets the enabling event only', () => {
    given(acme().slice(0, 5))
      .when(as('po').EnableConnectorPermissions({ orgId: 'acme' }))
      .then(e.ConnectorPermissionsEnabled({ orgId: 'acme' }));
  });

  it('R62 (decision): enabling twice → violation', () => {
    given(withJira(), e.ConnectorPermissionsEnabled({ orgId: 'acme' }))
      .when(as('owner').EnableConnectorPermissions({ orgId: 'acme' }))
      .thenViolates('R62', /already enabled/);
  });

  it('R22: an admin is refused', () => {
    given(withJira())
      .when(as('admin').EnableConnectorPermissions({ orgId: 'acme' }))
      .thenRefused('R22');
  });

  it("scenario 13 (R12): enabling connector permissions with existing roles → no member's tool level changes at that instant", () => {
    const outcome = given(withJira(), e.OrgToolPolicySet({ orgId: 'acme', connectorId: 'jira', toolName: 'create_issue', level: 'needs_approval' })).when(
      as('owner').EnableConnectorPermissions({ orgId: 'acme' }),
    );
    const levels = (facts: FactStore) =>
      Object.fromEntries(
        ACME_PEOPLE.map((u) => [
          u,
          Object.fromEntries(
            [...permissionsOf(accessOf(new FactReader(facts, { at: outcome.at, knownAt: Infinity }), 'acme', u)!)].filter(([p]) => p.startsWith('tool:')),
          ),
        ]),
      );
    const before = levels(outcome.facts);
    expect(before['cm']).toEqual({ 'tool:jira/search_issues': 'always_allow', 'tool:jira/create_issue': 'needs_approval' });
    const after = levels(outcome.fold());
    expect(after).toEqual(before);
  });
});
