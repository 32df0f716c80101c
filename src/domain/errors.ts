/**
 * Business errors a use case can answer with. Each use case returns the few it can produce (a closed union built from
 * these); the HTTP layer maps each `code` to a status in one exhaustive switch, so a new code does not compile until it
 * is mapped.
 */
export type InvalidInput = { readonly code: 'InvalidInput'; readonly field: string; readonly message: string };
export type InvalidCredentials = { readonly code: 'InvalidCredentials' };
export type UserExists = { readonly code: 'UserExists' };
export type InactiveUser = { readonly code: 'InactiveUser' };
export type InvalidToken = { readonly code: 'InvalidToken'; readonly reason: string };
export type ExpiredAccess = { readonly code: 'ExpiredAccess' };
export type ExpiredRefresh = { readonly code: 'ExpiredRefresh' };
export type EarlyRefresh = { readonly code: 'EarlyRefresh' };
export type RevokedToken = { readonly code: 'RevokedToken' };
export type InvalidRefreshToken = { readonly code: 'InvalidRefreshToken' };
export type MissingRoles = {
  readonly code: 'MissingRoles';
  readonly roles: readonly string[];
  readonly mode: 'all' | 'any';
};
export type UserNotFound = { readonly code: 'UserNotFound' };
export type EmailTaken = { readonly code: 'EmailTaken' };
/** A confirmation or reset token that is unknown, spent or expired. */
export type InvalidAccountToken = { readonly code: 'InvalidAccountToken' };
export type RegistrationClosed = { readonly code: 'RegistrationClosed' };
export type SessionNotFound = { readonly code: 'SessionNotFound' };
export type TooManyRequests = { readonly code: 'TooManyRequests'; readonly retryAfterSeconds: number };

export type DomainError =
  | InvalidInput
  | InvalidCredentials
  | UserExists
  | InactiveUser
  | InvalidToken
  | ExpiredAccess
  | ExpiredRefresh
  | EarlyRefresh
  | RevokedToken
  | InvalidRefreshToken
  | MissingRoles
  | UserNotFound
  | EmailTaken
  | InvalidAccountToken
  | RegistrationClosed
  | SessionNotFound
  | TooManyRequests;

export type DomainErrorCode = DomainError['code'];

export const invalidInput = (field: string, message: string): InvalidInput => ({
  code: 'InvalidInput',
  field,
  message,
});
export const invalidToken = (reason: string): InvalidToken => ({ code: 'InvalidToken', reason });
export const tooManyRequests = (retryAfterSeconds: number): TooManyRequests => ({
  code: 'TooManyRequests',
  retryAfterSeconds,
});
