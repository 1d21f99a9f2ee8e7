import { SetMetadata } from '@nestjs/common';
import type { Scope } from '../keys/scopes.js';

export const REQUIRED_SCOPE = 'access-ledger:required-scope';

/** The scope a `/v1/tenants/:tenantId/...` route needs; the ApiKeyGuard enforces it. */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
