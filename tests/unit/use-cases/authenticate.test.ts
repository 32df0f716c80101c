import { expect } from 'chai';
import sinon from 'sinon';
import { type FakeServices, fakeServices } from '../../support/fake-services.js';
import { value } from '../../support/results.js';

const PASSWORD = 'correct horse battery staple';
/** A documentation address (RFC 5737) for the brute-force limits. */
const CLIENT = '192.0.2.1';

async function registered(s: FakeServices, username = 'Alice', password = PASSWORD): Promise<number> {
  const result = await s.registerUser.execute({ username, password, client: CLIENT });
  if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
  return result.value.userId;
}

describe('use case: Authenticate', () => {
  afterEach(() => sinon.restore());

  it('logs in with the right password and returns a token for that user', async () => {
    const s = fakeServices();
    const id = await registered(s);
    s.clock.advanceSeconds(60);
    const result = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });
    if (!result.ok) throw new Error(`login failed: ${JSON.stringify(result.error)}`);

    const now = Math.floor(s.clock.now() / 1000);
    expect(result.value.userId).to.equal(id);
    expect(result.value.expiresIn).to.equal(900);
    expect(result.value.claims).to.deep.include({
      userId: id,
      roles: ['user'],
      issuedAt: now,
      expiresAt: now + 900,
      refreshableUntil: now + 30 * 86400,
    });
    expect(result.value.claims.tokenId).to.be.a('string').and.not.equal('');
    expect(s.signer.verify(result.value.accessToken, now)).to.deep.equal({
      status: 'valid',
      claims: result.value.claims,
    });
    expect(s.logger.events('login_success').map((line) => [line.level, line.fields])).to.deep.equal([
      ['info', { event: 'login_success', outcome: 'success', user_id: id, username: 'Alice' }],
    ]);
    expect(s.events.count('login_success')).to.equal(1);
  });

  it('finds the user whatever the case or width of the name typed', async () => {
    const s = fakeServices();
    const id = await registered(s, 'alice');
    for (const username of ['ALICE', 'Ａｌｉｃｅ', 'aLiCe']) {
      const result = await s.authenticate.execute({ client: CLIENT, username, password: PASSWORD });
      expect(result.ok && result.value.userId, username).to.equal(id);
    }
  });

  it('accepts the password typed in another Unicode normal form (NFD vs NFC, full width)', async () => {
    const s = fakeServices();
    const id = await registered(s, 'zoe', 'Zoë-Café-2024!');
    for (const password of ['Zoe\u0308-Cafe\u0301-2024!', 'Ｚｏë-Ｃａｆé-２０２４！']) {
      const result = await s.authenticate.execute({ client: CLIENT, username: 'zoe', password });
      expect(result.ok && result.value.userId, JSON.stringify(password)).to.equal(id);
    }
  });

  it('answers an unknown user with InvalidCredentials after verifying the dummy hash', async () => {
    const s = fakeServices();
    await registered(s);
    const verify = sinon.spy(s.hasher, 'verify');

    const result = await s.authenticate.execute({ client: CLIENT, username: 'nobody', password: PASSWORD });

    expect(result).to.deep.equal({ ok: false, error: { code: 'InvalidCredentials' } });
    expect(verify.callCount).to.equal(1);
    expect(verify.firstCall.args).to.deep.equal([await s.hasher.dummyHash(), PASSWORD, PASSWORD]);
  });

  it('answers a wrong password with the same InvalidCredentials, after verifying the stored hash', async () => {
    const s = fakeServices();
    await registered(s);
    const verify = sinon.spy(s.hasher, 'verify');

    const wrong = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: 'not the password' });
    const unknown = await s.authenticate.execute({ client: CLIENT, username: 'nobody', password: 'not the password' });

    expect(wrong).to.deep.equal({ ok: false, error: { code: 'InvalidCredentials' } });
    expect(wrong).to.deep.equal(unknown);
    expect(verify.callCount).to.equal(2);
    expect(verify.firstCall.args).to.deep.equal([`fake$3$=${PASSWORD}`, 'not the password', 'not the password']);
  });

  it('refuses an inactive user with InactiveUser only when the password is right', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.users.replace(id, { isActive: false });

    expect(await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD })).to.deep.equal({
      ok: false,
      error: { code: 'InactiveUser' },
    });
    expect(
      await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: 'wrong password' }),
    ).to.deep.equal({
      ok: false,
      error: { code: 'InvalidCredentials' },
    });
  });

  it('upgrades a hash made with weaker parameters at the next successful login', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.users.replace(id, { passwordHash: `fake$1$=${PASSWORD}` });

    const result = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });

    expect(result.ok).to.equal(true);
    expect((await s.users.findById(id))?.passwordHash).to.equal(`fake$3$=${PASSWORD}`);
    expect(s.logger.events('password_rehashed').map((line) => line.fields.user_id)).to.deep.equal([id]);
  });

  it('writes the upgrade with the session, and never over a hash that changed since it was verified', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.users.replace(id, { passwordHash: `fake$1$=${PASSWORD}` });
    // Another login's upgrade (or an administrator) changes the hash while this login is between verify and commit.
    const hash = s.hasher.hash.bind(s.hasher);
    s.hasher.hash = async (password: string) => {
      await s.users.replace(id, { passwordHash: 'fake$3$=changed-meanwhile' });
      return hash(password);
    };

    const result = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });

    expect(result.ok).to.equal(true);
    expect((await s.users.findById(id))?.passwordHash).to.equal('fake$3$=changed-meanwhile');
  });

  it('answers a stored hash it cannot read as a wrong password, and logs the user without the hash', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.users.replace(id, { passwordHash: '$pbkdf2-sha512$corrupt' });

    const result = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });

    expect(result).to.deep.equal({ ok: false, error: { code: 'InvalidCredentials' } });
    expect(s.logger.events('password_hash_unreadable').map((line) => line.fields.user_id)).to.deep.equal([id]);
    expect(JSON.stringify(s.logger.lines)).to.not.include('corrupt');
  });

  it('does not touch a weak hash when the password is wrong', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.users.replace(id, { passwordHash: `fake$1$=${PASSWORD}` });

    await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: 'wrong password' });

    expect((await s.users.findById(id))?.passwordHash).to.equal(`fake$1$=${PASSWORD}`);
  });

  it('leaves a current hash as it is', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });
    expect((await s.users.findById(id))?.passwordHash).to.equal(`fake$3$=${PASSWORD}`);
    expect(s.logger.events('password_rehashed')).to.deep.equal([]);
  });

  it('logs a login_failure security event for unknown users and wrong passwords', async () => {
    const s = fakeServices();
    const id = await registered(s);
    const warn = sinon.spy(s.logger, 'warn');

    await s.authenticate.execute({ client: CLIENT, username: 'nobody', password: 'guess-one-123' });
    await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: 'guess-two-456' });

    expect(warn.callCount).to.equal(2);
    expect(
      s.logger.events('login_failure').map((line) => ({ level: line.level, user_id: line.fields.user_id })),
    ).to.deep.equal([
      { level: 'warn', user_id: null },
      { level: 'warn', user_id: id },
    ]);
    expect(s.events.count('login_failure')).to.equal(2);
    expect(s.events.count('login_success')).to.equal(0);
  });

  it('never writes a password, a hash or a token to any log line', async () => {
    const s = fakeServices();
    const id = await registered(s);
    await s.authenticate.execute({ client: CLIENT, username: 'nobody', password: 'guess-one-123' });
    await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: 'guess-two-456' });
    await s.users.replace(id, { passwordHash: `fake$1$=${PASSWORD}` });
    const ok = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });
    await s.users.replace(id, { isActive: false });
    await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: PASSWORD });

    const written = JSON.stringify(s.logger.lines);
    expect(s.logger.lines.length).to.be.greaterThan(3);
    for (const secret of [
      PASSWORD,
      'guess-one-123',
      'guess-two-456',
      'fake$',
      'dummy',
      ok.ok ? ok.value.accessToken : '?',
      ok.ok ? ok.value.refreshToken : '?',
    ]) {
      expect(written).to.not.include(secret);
    }
  });

  it('answers TooManyRequests once the username + client limit is reached, without checking the password', async () => {
    const s = fakeServices();
    await registered(s);
    for (let i = 0; i < 10; i += 1) {
      const failed = await s.authenticate.execute({ client: CLIENT, username: 'Alice', password: `wrong-${i}` });
      expect(failed, `attempt ${i + 1}`).to.deep.equal({ ok: false, error: { code: 'InvalidCredentials' } });
    }
    const verify = sinon.spy(s.hasher, 'verify');

    const locked = await s.authenticate.execute({ client: CLIENT, username: 'ALICE', password: PASSWORD });

    expect(locked.ok === false && locked.error.code).to.equal('TooManyRequests');
    expect(locked.ok === false && locked.error.code === 'TooManyRequests' && locked.error.retryAfterSeconds)
      .to.be.greaterThan(0)
      .and.at.most(900);
    expect(verify.callCount, 'no password verified while locked').to.equal(0);
    expect(s.logger.events('rate_limited').map((line) => line.fields.action)).to.deep.equal(['login']);
    expect(s.events.count('login_lockout')).to.equal(1);
    expect(
      value(await s.authenticate.execute({ client: '192.0.2.2', username: 'Alice', password: PASSWORD })).userId,
      'another client is not locked out',
    ).to.be.a('number');
  });
});
