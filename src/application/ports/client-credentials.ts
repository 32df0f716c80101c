import { type ServiceToken, serviceToken } from './service-token.js';

export const ClientCredentials: ServiceToken<ClientCredentials> = serviceToken('ClientCredentials');
/** The services allowed to call the introspection endpoint, by id and secret (`INTROSPECTION_CLIENTS`). */
export interface ClientCredentials {
  /** @returns whether `id` and `secret` are those of a known client, in a time that does not depend on either. */
  check(id: string, secret: string): boolean;
}
