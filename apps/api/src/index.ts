/**
 * The api app's public face for other apps (the CLI), light enough to load statically: API keys, scopes and the API's
 * SQLite file — no NestJS, no store. The server itself (the composition root) and the read model on disk are in
 * `server.ts`, which the CLI loads on use. test/architecture.spec.ts allows an app into another only through these two.
 */
export { ApiKeyStore, PRINCIPAL_CHOICES, formatPrincipal, parsePrincipal } from './keys/api-key-store.js';
export { SCOPES, Scope } from './keys/scopes.js';
export { openApiDatabase } from './storage/api-database.js';
