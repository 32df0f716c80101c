import type { Principal } from './verify-access-token.js';

export interface GetSecretOutput {
  readonly message: string;
}

/** The seed's protected resource: a message naming the authenticated user. It cannot fail. */
export class GetSecret {
  execute(input: { readonly principal: Principal }): GetSecretOutput {
    return { message: `protected endpoint (allowed usr ${input.principal.username})` };
  }
}
