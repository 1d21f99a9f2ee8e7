/** A realistic, deterministic generator of enterprise access histories (docs/history.md). */
export { generateHistory } from './generate-history.js';
export { benchmarkHistory, demoHistory, estimateCommands, commandBudget, type HistoryOptions, type CommandBudget } from './options.js';
export type { CommandActor, CommandBody, CommandPayloads, CommandType, HistoryItem, ImportLine } from './commands.js';
