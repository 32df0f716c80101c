import { expect } from 'chai';
import { fakeServices } from '../../support/fake-services.js';

const PASSWORD = 'correct horse battery staple';
/** A documentation address (RFC 5737), for the registration limit. */
const CLIENT = '192.0.2.1';

describe('use case: RegisterUser', () => {
  it('creates an active user with the role "user", stored under the name as given', async () => {
    const s = fakeServices();
    const result = await s.registerUser.execute({ username: 'Alice', password: PASSWORD, client: CLIENT });
    if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);

    const stored = await s.users.findById(result.value.userId);
    expect(stored).to.deep.equal({
      id: result.value.userId,
      username: 'Alice',
      passwordHash: `fake$3$=${PASSWORD}`,
      roles: ['user'],
      isActive: true,
      email: null,
      emailVerified: false,
    });
    expect(s.events.count('registration')).to.equal(1);
    expect(s.logger.events('user_created').map((line) => line.fields)).to.deep.equal([
      {
        event: 'user_created',
        outcome: 'success',
        user_id: result.value.userId,
        username: 'Alice',
        roles: ['user'],
      },
    ]);
  });

  it('hashes the NFKC form of the password, never the password as typed', async () => {
    const s = fakeServices();
    const result = await s.registerUser.execute({
      username: 'bob',
      password: 'Ｃａｆｅ\u0301-ﬁsh-2024',
      client: CLIENT,
    });
    if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
    const stored = await s.users.findById(result.value.userId);
    expect(stored?.passwordHash).to.equal('fake$3$=Café-fish-2024');
  });

  it('returns a signed access token for the new user with the service lifespans', async () => {
    const s = fakeServices();
    const result = await s.registerUser.execute({ username: 'carol', password: PASSWORD, client: CLIENT });
    if (!result.ok) throw new Error(`registration failed: ${JSON.stringify(result.error)}`);
    const now = Math.floor(s.clock.now() / 1000);

    const { claims } = result.value;
    expect(result.value.expiresIn).to.equal(900);
    expect(claims).to.deep.equal({
      tokenId: claims.tokenId,
      sessionId: claims.sessionId,
      userId: result.value.userId,
      roles: ['user'],
      issuedAt: now,
      expiresAt: now + 900,
      refreshableUntil: now + 30 * 86400,
    });
    expect(claims.tokenId).to.be.a('string').and.not.equal('');
    expect((await s.sessions.findById(claims.sessionId))?.userId).to.equal(result.value.userId);
    expect(s.signer.verify(result.value.accessToken, now)).to.deep.equal({ status: 'valid', claims });
  });

  it('answers UserExists for the same name in another case or width, and keeps the first user', async () => {
    const s = fakeServices();
    const first = await s.registerUser.execute({ username: 'alice', password: PASSWORD, client: CLIENT });
    if (!first.ok) throw new Error('first registration failed');

    for (const username of ['alice', 'ALICE', 'Ａｌｉｃｅ', 'ａｌｉｃｅ']) {
      const again = await s.registerUser.execute({ username, password: 'another password 123', client: CLIENT });
      expect(again, username).to.deep.equal({ ok: false, error: { code: 'UserExists' } });
    }
    const stored = await s.users.findByUsername('alice');
    expect(stored?.id).to.equal(first.value.userId);
    expect(stored?.passwordHash).to.equal(`fake$3$=${PASSWORD}`);
    expect(await s.users.findById(first.value.userId + 1)).to.equal(null);
  });

  const invalid: { name: string; input: { username: string; password: string }; field: string; message: string }[] = [
    {
      name: 'an empty username',
      input: { username: '', password: PASSWORD },
      field: 'username',
      message: 'username must be 1 to 64 characters',
    },
    {
      name: 'a 65-character username',
      input: { username: 'u'.repeat(65), password: PASSWORD },
      field: 'username',
      message: 'username must be 1 to 64 characters',
    },
    {
      name: 'a username with a control character',
      input: { username: 'bo\u0000b', password: PASSWORD },
      field: 'username',
      message: 'username must not contain U+0000: a control character',
    },
    {
      name: 'a padded username',
      input: { username: ' bob ', password: PASSWORD },
      field: 'username',
      message: 'username may hold single spaces between words, and none at the start or the end',
    },
    {
      name: 'a 7-character password',
      input: { username: 'bob', password: 'abc1234' },
      field: 'password',
      message: 'password must be at least 8 characters',
    },
    {
      name: 'a 129-character password',
      input: { username: 'bob', password: 'p'.repeat(129) },
      field: 'password',
      message: 'password must be at most 128 characters',
    },
    {
      name: 'a common password',
      input: { username: 'bob', password: 'PassWord' },
      field: 'password',
      message: 'password is too common; choose one that is not on a list of common passwords',
    },
  ];
  for (const { name, input, field, message } of invalid) {
    it(`refuses ${name} with InvalidInput on "${field}" and stores nothing`, async () => {
      const s = fakeServices();
      const result = await s.registerUser.execute({ ...input, client: CLIENT });
      expect(result).to.deep.equal({ ok: false, error: { code: 'InvalidInput', field, message } });
      expect(await s.users.findById(1)).to.equal(null);
    });
  }

  it('checks the username before the password', async () => {
    const s = fakeServices();
    const result = await s.registerUser.execute({ username: '', password: 'short', client: CLIENT });
    expect(result.ok === false && result.error.code === 'InvalidInput' && result.error.field).to.equal('username');
  });

  it('answers TooManyRequests to the 21st registration from one client in an hour, and stores nothing', async () => {
    const s = fakeServices();
    for (let i = 1; i <= 20; i += 1) {
      const result = await s.registerUser.execute({ username: `user${i}`, password: PASSWORD, client: CLIENT });
      expect(result.ok, `registration ${i}`).to.equal(true);
    }
    const refused = await s.registerUser.execute({ username: 'one-too-many', password: PASSWORD, client: CLIENT });
    expect(refused.ok === false && refused.error.code).to.equal('TooManyRequests');
    expect(refused.ok === false && refused.error.code === 'TooManyRequests' && refused.error.retryAfterSeconds)
      .to.be.greaterThan(0)
      .and.at.most(3600);
    expect(await s.users.findByUsername('one-too-many')).to.equal(null);
    expect(s.logger.events('rate_limited').map((line) => line.fields.action)).to.deep.equal(['registration']);
    const elsewhere = await s.registerUser.execute({ username: 'elsewhere', password: PASSWORD, client: '192.0.2.2' });
    expect(elsewhere.ok, 'another client still registers').to.equal(true);
  });

  it('counts UserExists answers too, so taken usernames cannot be probed for free', async () => {
    const s = fakeServices();
    expect((await s.registerUser.execute({ username: 'alice', password: PASSWORD, client: CLIENT })).ok).to.equal(true);
    for (let i = 2; i <= 20; i += 1) {
      const taken = await s.registerUser.execute({ username: 'alice', password: PASSWORD, client: CLIENT });
      expect(taken, `registration ${i}`).to.deep.equal({ ok: false, error: { code: 'UserExists' } });
    }
    const refused = await s.registerUser.execute({ username: 'alice', password: PASSWORD, client: CLIENT });
    expect(refused.ok === false && refused.error.code).to.equal('TooManyRequests');
  });

  it('logs the registration with the user id and never the password or its hash', async () => {
    const s = fakeServices();
    const result = await s.registerUser.execute({ username: 'dave', password: PASSWORD, client: CLIENT });
    if (!result.ok) throw new Error('registration failed');
    expect(s.logger.lines.filter((line) => line.fields.user_id === result.value.userId)).to.not.be.empty;
    const written = JSON.stringify(s.logger.lines);
    expect(written).to.not.include(PASSWORD);
    expect(written).to.not.include('fake$');
    expect(written).to.not.include(result.value.accessToken);
    expect(written).to.not.include(result.value.refreshToken);
  });
});
