/**
 * The Elastic Common Schema (ECS 8.x) fields jwt-login's log lines carry, with the Elasticsearch type each is mapped
 * to. The log streams write records in these names; the index template in elk/ maps them; the Kibana dashboard may use
 * only these (a test checks both against this list).
 */
export const ECS_FIELDS = {
  '@timestamp': 'date',
  message: 'text',
  'ecs.version': 'keyword',
  'log.level': 'keyword',
  'log.logger': 'keyword',
  'service.name': 'keyword',
  'host.hostname': 'keyword',
  'process.pid': 'long',
  'event.kind': 'keyword',
  'event.category': 'keyword',
  'event.type': 'keyword',
  'event.action': 'keyword',
  'event.outcome': 'keyword',
  'event.reason': 'keyword',
  'event.duration': 'long',
  'http.request.method': 'keyword',
  'http.response.status_code': 'long',
  'url.path': 'keyword',
  'client.ip': 'ip',
  'user_agent.original': 'keyword',
  'trace.id': 'keyword',
  'user.id': 'keyword',
  'user.name': 'keyword',
  'user.roles': 'keyword',
  'user.target.id': 'keyword',
  'user.target.name': 'keyword',
  'user.target.roles': 'keyword',
  'user.changes.roles': 'keyword',
  'session.id': 'keyword',
  'error.type': 'keyword',
  'error.message': 'text',
  'error.stack_trace': 'text',
  'labels.limit': 'keyword',
  'labels.retry_after': 'keyword',
  'labels.shed': 'keyword',
  'labels.active': 'keyword',
  'labels.sessions_revoked': 'keyword',
  'labels.component': 'keyword',
  'labels.via': 'keyword',
} as const;

export type EcsField = keyof typeof ECS_FIELDS;

/**
 * `event.action` values of the security events (besides `request`, one per HTTP request), for dashboards and alerts.
 */
export const SECURITY_ACTIONS = [
  'login-success',
  'login-failure',
  'login-inactive-user',
  'rate-limited',
  'refresh-token-reused',
  'refresh-inactive-user',
  'session-revoked',
  'user-created',
  'user-updated',
  'user-deleted',
  'password-rehashed',
  'password-changed',
  'password-reset-requested',
  'password-reset',
  'email-confirmed',
  'mail-sent',
  'mail-failed',
  'overloaded',
  'introspection',
] as const;
