import { expect } from 'chai';
import { isDatabaseUnavailable } from '../../../src/infrastructure/persistence/pool.js';

const withCode = (code: string, message = `error ${code}`) => Object.assign(new Error(message), { code });

describe('which database failures are a 503 (the database cannot serve now) and which a 500 (a bug)', () => {
  for (const [code, name] of [
    ['25006', 'read_only_sql_transaction (a standby after a failover, a read-only database)'],
    ['53100', 'disk_full'],
    ['53200', 'out_of_memory'],
    ['53300', 'too_many_connections'],
    ['53400', 'configuration_limit_exceeded'],
    ['57P01', 'admin_shutdown'],
    ['57P02', 'crash_shutdown'],
    ['57P03', 'cannot_connect_now'],
    ['08006', 'connection_failure'],
    ['08001', 'sqlclient_unable_to_establish_sqlconnection'],
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
    ['EMFILE', 'no file descriptor left'],
    ['ENFILE', 'the system is out of file descriptors'],
    ['ECONNRESET', 'connection reset'],
    ['ECONNREFUSED', 'connection refused'],
  ] as const) {
    it(`${code} ${name}: unavailable`, () => {
      expect(isDatabaseUnavailable(withCode(code))).to.equal(true);
      expect(isDatabaseUnavailable(new Error('wrapped', { cause: withCode(code) })), 'behind a wrapper').to.equal(true);
    });
  }

  it('an acquire timeout of any pool: unavailable', () => {
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('Query read timeout'))).to.equal(true);
  });

  for (const [code, name] of [
    ['23505', 'unique_violation'],
    ['42601', 'syntax_error'],
    ['22P02', 'invalid_text_representation'],
    ['42P01', 'undefined_table'],
  ] as const) {
    it(`${code} ${name}: a bug, not unavailability`, () => {
      expect(isDatabaseUnavailable(withCode(code))).to.equal(false);
    });
  }

  it('an error without a code, or not an error: not unavailability', () => {
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).to.equal(false);
    expect(isDatabaseUnavailable('a string')).to.equal(false);
  });
});
