import { z } from 'zod';

/**
 * The scopes an API key may carry (http-api.md "Authentication and tenancy"). `scim`, `admin`, `platform` and
 * `act-as-member` also let a key's commands name an actor of kind scim, system, platform or member other than the
 * key's principal (ACT_AS_SCOPE in ledger.port.ts).
 */
export const SCOPES = ['commands:write', 'events:import', 'access:read', 'audit:read', 'exports:write', 'scim', 'admin', 'platform', 'act-as-member'] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;
