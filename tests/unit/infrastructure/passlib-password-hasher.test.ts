import { expect } from 'chai';
import sinon from 'sinon';
import { Argon2PasswordHasher } from '../../../src/infrastructure/security/argon2-password-hasher.js';
import { PasslibPasswordHasher } from '../../../src/infrastructure/security/passlib-password-hasher.js';
import { ShaCryptWorkers } from '../../../src/infrastructure/security/sha-crypt-workers.js';

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
/** A password that NFKC changes: what praetorian hashed (as typed) and what we hash (normalized) differ. */
const TYPED = 'ﬁne password';
const NORMALIZED = TYPED.normalize('NFKC');

describe('PasslibPasswordHasher: argon2 hashes of a password as typed', () => {
  const workers = new ShaCryptWorkers(1);
  after(() => workers.close());

  it('verifies passlib-style argon2 (other parameters) of the typed password, and costs one hash for our own', async () => {
    const current = new Argon2PasswordHasher({ ...CHEAP, timeCost: 2 });
    const hasher = new PasslibPasswordHasher(current, workers);
    const passlibStyle = await new Argon2PasswordHasher(CHEAP).hash(TYPED);
    expect(await hasher.verify(passlibStyle, NORMALIZED, TYPED)).to.equal(true);

    const verify = sinon.spy(current, 'verify');
    const own = await current.hash(NORMALIZED);
    expect(await hasher.verify(own, 'wrong'.normalize('NFKC'), 'wrong ﬁ')).to.equal(false);
    expect(await hasher.verify(await hasher.dummyHash(), NORMALIZED, TYPED)).to.equal(false);
    expect(verify.callCount, 'a wrong password against our own hash, and the dummy hash: one verify each').to.equal(2);
  });
});
