import { type Result, ok } from '../../domain/result.js';
import type { DomainError } from '../../domain/errors.js';
import type { Principal } from './verify-access-token.js';

export interface GetSecretOutput {
  readonly message: string;
}

/** The seed's protected resource: a message naming the authenticated user. */
export class GetSecret {
  async execute(input: { readonly principal: Principal }): Promise<Result<GetSecretOutput, DomainError>> {
    return ok({ message: `protected endpoint (allowed usr ${input.principal.username})` });
  }
}
