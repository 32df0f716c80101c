import { expect } from 'chai';
import { UnexpectedForeignConnectionError, sql } from 'slonik';
import { z } from 'zod';
import { type TestDatabase, createTestDatabase } from '../support/database.js';

const one = sql.type(z.object({ one: z.number() }))`SELECT 1 AS one`;

/**
 * slonik keeps the transaction in progress in an AsyncLocalStorage, which in Node 20 turns on promise hooks for every
 * promise of the process. The patch in patches/ disables it whenever no transaction is in progress, so that requests
 * that open none (guarded requests) do not pay for it. These pin down what the patch must keep and what it changes.
 */
describe("slonik's transaction context, disabled between transactions (patches/, issue 7)", function () {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await database?.drop();
  });

  it('still refuses a pool query inside a transaction after another, overlapping transaction has ended', async () => {
    const { pool } = database;
    let endFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (endFirst = resolve));
    const first = pool.transaction(async (connection) => {
      await connection.query(one);
      await firstMayEnd;
    });
    const second = pool.transaction(async (connection) => {
      await connection.query(one);
      endFirst();
      await first;
      // The first transaction has ended; this one has not: the guard against a query on another connection holds.
      const error = await pool.query(one).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(UnexpectedForeignConnectionError);
    });
    await second;
  });

  it('lets work begun in a transaction query the pool once no transaction is in progress', async () => {
    const { pool } = database;
    let later!: Promise<number>;
    await pool.transaction(async (connection) => {
      await connection.query(one);
      // Fire-and-forget work started inside the transaction, running after it: the context it inherited is over.
      later = new Promise((resolve) => setTimeout(resolve, 20)).then(() => pool.oneFirst(one));
    });
    expect(await later).to.equal(1);
  });
});
