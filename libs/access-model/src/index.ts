export * from './envelope.js';
export * from './vocabulary.js';
export * from './catalog.js';
export * from './facts.js';
export * from './fact-keys.js';
export * from './evolve.js';
export * from './evaluate.js';
