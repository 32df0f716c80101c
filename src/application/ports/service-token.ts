import type { ServiceIdentifier } from 'inversify';

declare const portType: unique symbol;

/**
 * The DI token of a port, declared beside it under the port's own name. It is an inversify `ServiceIdentifier` (a
 * symbol) that also carries the port's type, so that the composition root's `get(token)` is typed and the compiler
 * checks every constructor argument: a bare `ServiceIdentifier<T>` is a plain `symbol` for symbol tokens, and loses `T`.
 */
export type ServiceToken<T> = Extract<ServiceIdentifier<T>, symbol> & { readonly [portType]?: T };

export const serviceToken = <T>(name: string): ServiceToken<T> => Symbol.for(name);
