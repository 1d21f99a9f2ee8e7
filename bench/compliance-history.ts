/**
 * The feed of the compliance-source benchmark: one organization, 5 000 members added, then group memberships added
 * and removed over 100 groups, role changes, custom roles assigned, 30 % non-access activities (chats) and 1 % of an
 * unknown type.
 */
const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const actor = { type: 'user_actor', user_id: 'u0', email_address: 'u0@acme.test', ip_address: '192.0.2.1', user_agent: 'bench' };

export function complianceHistory(n: number): Record<string, unknown>[] {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const out: Record<string, unknown>[] = [];
  const members = Math.min(5_000, Math.max(10, Math.floor(n / 50)));
  const groups = 100;
  let i = 0;
  const push = (type: string, fields: Record<string, unknown>) => {
    out.push({
      id: `activity_${i}`,
      created_at: new Date(base + i * 1000).toISOString(),
      organization_id: 'org_bench',
      organization_uuid: ORG,
      actor,
      type,
      ...fields,
    });
    i++;
  };
  push('org_created', { organization_name: 'Bench' });
  for (let m = 0; m < members; m++) push('org_user_added', { user_id: `u${m}`, email_address: `u${m}@acme.test`, role: m === 0 ? 'primary_owner' : 'user' });
  for (let g = 0; g < groups; g++) push('group_created', { group_id: `g${g}`, group_name: `Group ${g}` });
  for (let r = 0; r < 10; r++) push('custom_role_created', { role_id: `r${r}`, role_name: `Role ${r}`, capabilities: ['claude_code'] });
  for (let g = 0; g < groups; g++) push('role_assigned_to_group', { group_id: `g${g}`, role_id: `r${g % 10}` });
  const inGroup = new Set<string>();
  let k = 0;
  while (out.length < n) {
    k++;
    const roll = k % 100;
    if (roll < 30) push('claude_chat_created', { claude_chat_id: `claude_chat_${k}` });
    else if (roll < 31) push('org_unknown_bench_type', { n: k });
    else if (roll < 33) push('org_user_role_changed', { user_id: `u${1 + (k % (members - 1))}`, role: k % 2 ? 'admin' : 'user' });
    else {
      const user = `u${1 + ((k * 7919) % (members - 1))}`;
      const group = `g${(k * 31) % groups}`;
      const key = `${group}/${user}`;
      if (inGroup.has(key)) {
        inGroup.delete(key);
        push('group_member_removed', { group_id: group, user_id: user });
      } else {
        inGroup.add(key);
        push('group_member_added', { group_id: group, user_id: user });
      }
    }
  }
  return out;
}
