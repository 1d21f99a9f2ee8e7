import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { estimateCommands, generateHistory, type CommandBody, type ImportLine } from '../src/index.js';
import { commandProblems } from './http-api-shapes.js';
import { Referee } from './referee.js';
import { smallOptions } from './small-options.js';

describe('generateHistory — any small parameters', () => {
  it('R22–R24, R61, R62: well-formed, monotone, valid in order, exactly the estimated size', () => {
    fc.assert(
      fc.property(smallOptions, (options) => {
        // Problems are collected, not asserted one by one: expect() per command would dominate the run time.
        const referee = new Referee();
        const problems: string[] = [];
        let last = '';
        let commands = 0;
        for (const item of generateHistory(options)) {
          if (item.kind === 'import') {
            for (const line of item.lines) {
              if (!(line.occurredAt < last)) problems.push(`import ${line.id} not earlier than ${last}`);
              const why = referee.importLine(line as ImportLine);
              if (why) problems.push(`import ${line.id}: ${why}`);
            }
            continue;
          }
          commands++;
          const c = item.command;
          const shape = commandProblems(c);
          if (shape.length > 0) problems.push(`${c.type}: ${shape.join('; ')}`);
          if (c.occurredAt < last) problems.push(`${c.idempotencyKey} goes back in time`);
          last = c.occurredAt;
          const verdict = referee.judge(c as CommandBody);
          if (item.refused ? verdict.refusal === undefined : verdict.refusal !== undefined || verdict.invalid !== undefined) {
            problems.push(
              `${c.idempotencyKey} ${c.type} ${JSON.stringify(c.payload)}: ${item.refused ? 'allowed but marked refused' : (verdict.refusal ?? verdict.invalid)}`,
            );
          }
        }
        expect(problems.slice(0, 5)).toEqual([]);
        expect(commands).toBe(estimateCommands(options));
      }),
      { numRuns: Number(process.env.HISTORY_PROPERTY_RUNS ?? 20), seed: Number(process.env.HISTORY_PROPERTY_SEED ?? 20261126) },
    );
  });

  it('refuses parameters it cannot honour, with a clear message', () => {
    const base = { seed: 1, users: 100, orgs: 2, groups: 5, customRoles: 2, connectors: 2, toolsPerConnector: 5, years: 1, start: '2024-01-01T00:00:00.000Z' };
    expect(() => generateHistory({ ...base, users: 30, orgs: 4 }).next()).toThrow(/10 per organization/);
    expect(() => generateHistory({ ...base, years: 0 }).next()).toThrow(/years/);
    expect(() => generateHistory({ ...base, start: 'yesterday' }).next()).toThrow(/start/);
  });
});
