/**
 * Business errors a use case can answer with. The HTTP layer maps each `code` to a status in one exhaustive switch,
 * so a new code does not compile until it is mapped.
 */
export type DomainError =
  | { readonly code: 'InvalidInput'; readonly field: string; readonly message: string }
  | { readonly code: 'InvalidCredentials' }
  | { readonly code: 'UserExists' }
  | { readonly code: 'InactiveUser' }
  | { readonly code: 'InvalidToken'; readonly reason: string }
  | { readonly code: 'ExpiredAccess' }
  | { readonly code: 'ExpiredRefresh' }
  | { readonly code: 'EarlyRefresh' }
  | { readonly code: 'RevokedToken' }
  | { readonly code: 'InvalidRefreshToken' }
  | { readonly code: 'MissingRoles'; readonly roles: readonly string[]; readonly mode: 'all' | 'any' }
  | { readonly code: 'UserNotFound' }
  | { readonly code: 'TooManyRequests'; readonly retryAfterSeconds: number };

export type DomainErrorCode = DomainError['code'];

export const invalidInput = (field: string, message: string): DomainError => ({ code: 'InvalidInput', field, message });
export const invalidToken = (reason: string): DomainError => ({ code: 'InvalidToken', reason });
