import { z } from 'zod';

/** The scopes an API key may carry (http-api.md "Authentication and tenancy"). */
export const SCOPES = ['commands:write', 'events:import', 'access:read', 'audit:read', 'exports:write', 'scim', 'admin'] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;
