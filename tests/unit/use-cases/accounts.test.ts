import { expect } from 'chai';
import { CONFIRMATION_MESSAGE } from '../../../src/application/use-cases/register-user.js';
import { RESET_MESSAGE } from '../../../src/application/use-cases/password-reset.js';
import { fakeServices } from '../../support/fake-services.js';

const PASSWORD = 'correct horse battery staple';
const CLIENT = '192.0.2.1';
const tokenOf = (text: string) => new URL(/https?:\/\/\S+/.exec(text)![0]).searchParams.get('token')!;

describe('use cases: accounts and mail over the in-memory fakes (issue 8)', () => {
  it('with confirmation required, stores an inactive user, mails the link, and activates it on confirmation', async () => {
    const s = fakeServices();
    const result = await s.registerWithConfirmation.execute({
      username: 'alice',
      password: PASSWORD,
      email: 'Alice@Example.com',
      client: CLIENT,
    });
    expect(result).to.deep.equal({ ok: true, value: { kind: 'confirm', message: CONFIRMATION_MESSAGE } });
    const stored = await s.users.findByUsername('alice');
    expect(stored).to.deep.include({ isActive: false, email: 'Alice@Example.com', emailVerified: false });
    expect(s.accounts.mails).to.have.length(1);
    const [mail] = s.accounts.mails;
    expect(mail).to.deep.include({ kind: 'confirmation', to: 'Alice@Example.com' });

    const confirmed = await s.confirmEmail.execute({ token: tokenOf(mail!.text), origin: { client: CLIENT } });
    expect(confirmed.ok && confirmed.value.username).to.equal('alice');
    expect(await s.users.findByUsername('alice')).to.deep.include({ isActive: true, emailVerified: true });
    const again = await s.confirmEmail.execute({ token: tokenOf(mail!.text), origin: {} });
    expect(again).to.deep.equal({ ok: false, error: { code: 'InvalidAccountToken' } });
  });

  it('answers a taken address as a new one and mails its owner a notice, creating no user', async () => {
    const s = fakeServices();
    const input = { password: PASSWORD, email: 'owner@example.com', client: CLIENT };
    const first = await s.registerWithConfirmation.execute({ ...input, username: 'owner' });
    const second = await s.registerWithConfirmation.execute({
      ...input,
      username: 'intruder',
      email: ' OWNER@example.com',
    });
    expect(second).to.deep.equal(first);
    expect(await s.users.findByUsername('intruder')).to.equal(null);
    expect(s.accounts.mails.map((mail) => mail.kind)).to.deep.equal(['confirmation', 'address-taken']);
    expect(s.accounts.mails[1]!.text).to.not.match(/token=/);
  });

  it('with confirmation off, answers a taken address with EmailTaken', async () => {
    const s = fakeServices();
    const input = { password: PASSWORD, email: 'a@example.com', client: CLIENT };
    expect((await s.registerUser.execute({ ...input, username: 'one' })).ok).to.equal(true);
    expect(await s.registerUser.execute({ ...input, username: 'two' })).to.deep.equal({
      ok: false,
      error: { code: 'EmailTaken' },
    });
  });

  it('mails a reset link to an active address only, the same answer for all, and a reset spends it', async () => {
    const s = fakeServices();
    await s.registerUser.execute({
      username: 'active',
      password: PASSWORD,
      email: 'active@example.com',
      client: CLIENT,
    });
    await s.registerUser.execute({ username: 'idle', password: PASSWORD, email: 'idle@example.com', client: CLIENT });
    const idle = await s.users.findByUsername('idle');
    await s.users.replace(idle!.id, { isActive: false });
    const before = s.accounts.mails.length;
    for (const email of ['nobody@example.com', 'idle@example.com', 'ACTIVE@example.com']) {
      expect(await s.requestPasswordReset.execute({ email, client: CLIENT })).to.deep.equal({
        ok: true,
        value: RESET_MESSAGE,
      });
    }
    const sent = s.accounts.mails.slice(before);
    expect(sent.map((mail) => [mail.kind, mail.to])).to.deep.equal([['reset', 'active@example.com']]);

    const token = tokenOf(sent[0]!.text);
    const weak = await s.resetPassword.execute({ token, password: 'short', origin: {} });
    expect(weak.ok === false && weak.error.code).to.equal('InvalidInput');
    const reset = await s.resetPassword.execute({ token, password: 'a brand new passphrase', origin: {} });
    expect(reset.ok && reset.value.username).to.equal('active');
    const twice = await s.resetPassword.execute({ token, password: 'another new passphrase', origin: {} });
    expect(twice).to.deep.equal({ ok: false, error: { code: 'InvalidAccountToken' } });
    expect(s.events.count('password_reset'), 'one reset counted, the refused ones not').to.equal(1);
  });

  it('stops mailing an address past MAIL_RATE_LIMIT_PER_ADDRESS, answering the same', async () => {
    const s = fakeServices();
    await s.registerUser.execute({ username: 'bob', password: PASSWORD, email: 'bob@example.com', client: CLIENT });
    const before = s.accounts.mails.length;
    for (let i = 0; i < 5; i += 1) {
      const result = await s.requestPasswordReset.execute({ email: 'bob@example.com', client: `192.0.2.${10 + i}` });
      expect(result).to.deep.equal({ ok: true, value: RESET_MESSAGE });
    }
    expect(s.accounts.mails.length - before).to.equal(3);
  });

  it('changes a password only with the right current one, keeping this session and ending the others', async () => {
    const s = fakeServices();
    const first = await s.registerUser.execute({ username: 'carol', password: PASSWORD, client: CLIENT });
    if (!first.ok) throw new Error('registration failed');
    const second = await s.authenticate.execute({ username: 'carol', password: PASSWORD, client: CLIENT });
    if (!second.ok) throw new Error('login failed');
    const principal = {
      userId: first.value.userId,
      username: 'carol',
      roles: ['user'],
      tokenId: 'jti',
      sessionId: first.value.claims.sessionId,
      refreshableUntil: first.value.claims.refreshableUntil,
      issuedAt: first.value.claims.issuedAt,
      expiresAt: first.value.claims.expiresAt,
    };
    const wrong = await s.ownAccount.changePassword({
      principal,
      currentPassword: 'not the password',
      newPassword: 'a brand new passphrase',
      client: CLIENT,
    });
    expect(wrong).to.deep.equal({ ok: false, error: { code: 'InvalidCredentials' } });
    const changed = await s.ownAccount.changePassword({
      principal,
      currentPassword: PASSWORD,
      newPassword: 'a brand new passphrase',
      client: CLIENT,
    });
    expect(changed.ok).to.equal(true);
    expect((await s.sessions.findById(first.value.claims.sessionId))?.revokedAt).to.equal(null);
    expect((await s.sessions.findById(second.value.claims.sessionId))?.revokedAt).to.not.equal(null);
    const listed = await s.ownAccount.listSessions(principal);
    expect(listed.map((session) => [session.id, session.current])).to.deep.equal([
      [first.value.claims.sessionId, true],
    ]);
  });
});
