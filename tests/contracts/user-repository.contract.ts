import { expect } from 'chai';
import type { UserRepository } from '../../src/application/ports/user-repository.js';
import type { NewUser, User } from '../../src/domain/user.js';

export interface UserRepositoryHarness {
  /** A repository over an empty store; called before each test. */
  fresh(): Promise<UserRepository>;
}

const newUser = (username: string, changes: Partial<NewUser> = {}): NewUser => ({
  username,
  passwordHash: `hash-of-${username}`,
  roles: ['user'],
  isActive: true,
  ...changes,
});

async function created(repository: UserRepository, user: NewUser): Promise<User> {
  const result = await repository.create(user);
  if (!result.ok) throw new Error(`create(${user.username}) failed: ${result.error}`);
  return result.value;
}

/**
 * The UserRepository port's contract, run against every adapter (the in-memory fake and PostgreSQL), so the fake the
 * use-case tests rely on behaves as the real store does.
 */
export function userRepositoryContract(name: string, harness: UserRepositoryHarness): void {
  describe(`UserRepository contract: ${name}`, () => {
    let repository: UserRepository;
    beforeEach(async () => {
      repository = await harness.fresh();
    });

    it('create returns the stored user with a new positive integer id', async () => {
      const user = await created(repository, newUser('alice'));
      expect(Number.isInteger(user.id) && user.id > 0, `id ${user.id}`).to.equal(true);
      expect(user).to.deep.equal({ id: user.id, ...newUser('alice'), email: null, emailVerified: false });
    });

    it('gives each user its own id, and findById returns each', async () => {
      const alice = await created(repository, newUser('alice'));
      const bob = await created(repository, newUser('bob', { passwordHash: 'other-hash' }));
      expect(alice.id).to.not.equal(bob.id);
      expect(await repository.findById(alice.id)).to.deep.equal(alice);
      expect(await repository.findById(bob.id)).to.deep.equal(bob);
    });

    it('findByUsername ignores case and compares NFKC forms, and returns the name as stored', async () => {
      const alice = await created(repository, newUser('Alice'));
      for (const spelling of ['Alice', 'alice', 'ALICE', 'Ａｌｉｃｅ', 'ａｌｉｃｅ']) {
        expect(await repository.findByUsername(spelling), spelling).to.deep.equal(alice);
      }
      const zoe = await created(repository, newUser('Zoë'));
      expect(await repository.findByUsername('ZOE\u0308'), 'decomposed, upper-case').to.deep.equal(zoe);
    });

    it('findByUsername answers null for an unknown name, also one shaped like SQL', async () => {
      await created(repository, newUser('alice'));
      expect(await repository.findByUsername('bob')).to.equal(null);
      expect(await repository.findByUsername("' OR '1'='1")).to.equal(null);
      expect(await repository.findByUsername('alic')).to.equal(null);
      expect(await repository.findByUsername('alice ')).to.equal(null);
    });

    it('folds case as PostgreSQL lower() does, so ΟΔΟΣ and οδοσ are one user', async () => {
      const upper = await created(repository, newUser('ΟΔΟΣ'));
      expect(await repository.findByUsername('οδοσ')).to.deep.equal(upper);
      expect(await repository.create(newUser('οδοσ'))).to.deep.equal({ ok: false, error: 'UserExists' });
    });

    it('keeps names with quotes and SQL text intact', async () => {
      const user = await created(
        repository,
        newUser('O\'Brien"; DROP TABLE users;--', { passwordHash: "it's $1 \\ hash" }),
      );
      expect(await repository.findById(user.id)).to.deep.equal(user);
      expect(await repository.findByUsername('o\'brien"; drop table users;--')).to.deep.equal(user);
    });

    it('answers UserExists for an exact duplicate and for case and width variants, and keeps the first user', async () => {
      const alice = await created(repository, newUser('alice'));
      for (const spelling of ['alice', 'ALICE', 'Alice', 'Ａｌｉｃｅ']) {
        expect(await repository.create(newUser(spelling, { passwordHash: 'intruder' })), spelling).to.deep.equal({
          ok: false,
          error: 'UserExists',
        });
      }
      expect(await repository.findByUsername('alice')).to.deep.equal(alice);
      expect((await repository.list({ offset: 0, limit: 10 })).total).to.equal(1);
    });

    it('answers UserExists for a name that looks like a taken one: its confusable skeleton is taken (issue 9, point 2)', async () => {
      const alice = await created(repository, newUser('alice'));
      const marco = await created(repository, newUser('Marco'));
      // Cyrillic а (U+0430), і (U+0456), с (U+0441); Greek ο (U+03BF); "rn" for "m"; digit 1 for l.
      for (const lookalike of [
        '\u0430lice',
        'al\u0456ce',
        'ali\u0441e',
        'AL\u0406CE',
        'rnarco',
        'M\u0430rc\u03bf',
        'a1ice',
      ]) {
        expect(await repository.create(newUser(lookalike)), lookalike).to.deep.equal({
          ok: false,
          error: 'UserExists',
        });
      }
      expect((await repository.list({ offset: 0, limit: 10 })).users).to.deep.equal([alice, marco]);
      // Names that merely share letters are not lookalikes.
      await created(repository, newUser('alice2'));
      await created(repository, newUser('malice'));
    });

    it('folds non-ASCII case itself, whatever the database locale: Émile ~ émile, Δelta ~ δelta (issue 9, point 3)', async () => {
      const emile = await created(repository, newUser('Émile'));
      const delta = await created(repository, newUser('Δelta'));
      expect(await repository.findByUsername('émile')).to.deep.equal(emile);
      expect(await repository.findByUsername('E\u0301MILE')).to.deep.equal(emile);
      expect(await repository.findByUsername('δELTA')).to.deep.equal(delta);
      expect(await repository.create(newUser('émile'))).to.deep.equal({ ok: false, error: 'UserExists' });
      expect(await repository.create(newUser('δelta'))).to.deep.equal({ ok: false, error: 'UserExists' });
    });

    it('findById answers null for ids that do not exist or cannot exist', async () => {
      const alice = await created(repository, newUser('alice'));
      for (const id of [alice.id + 1000, 0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
        expect(await repository.findById(id), String(id)).to.equal(null);
      }
    });

    it('updatePasswordHash replaces the hash, seen by both finders', async () => {
      const alice = await created(repository, newUser('alice'));
      await repository.updatePasswordHash(alice.id, 'upgraded-hash');
      expect(await repository.findById(alice.id)).to.deep.equal({ ...alice, passwordHash: 'upgraded-hash' });
      expect((await repository.findByUsername('ALICE'))?.passwordHash).to.equal('upgraded-hash');
    });

    it('updatePasswordHash of an unknown user changes nothing', async () => {
      const alice = await created(repository, newUser('alice'));
      await repository.updatePasswordHash(alice.id + 1000, 'ghost-hash');
      expect(await repository.findById(alice.id)).to.deep.equal(alice);
      expect(await repository.findById(alice.id + 1000)).to.equal(null);
    });

    it('round-trips roles and the active flag', async () => {
      const admin = await created(repository, newUser('root', { roles: ['admin', 'user'], isActive: false }));
      const none = await created(repository, newUser('nobody', { roles: [] }));
      expect(await repository.findById(admin.id)).to.deep.include({ roles: ['admin', 'user'], isActive: false });
      expect(await repository.findByUsername('nobody')).to.deep.include({ roles: [], isActive: true });
      expect(none.roles).to.deep.equal([]);
    });

    it('update changes roles, the active flag or both, and returns the user as stored', async () => {
      const alice = await created(repository, newUser('alice'));
      expect(await repository.update(alice.id, { roles: ['admin'] })).to.deep.equal({ ...alice, roles: ['admin'] });
      expect(await repository.update(alice.id, { isActive: false })).to.deep.equal({
        ...alice,
        roles: ['admin'],
        isActive: false,
      });
      expect(await repository.update(alice.id, { roles: [], isActive: true })).to.deep.equal({
        ...alice,
        roles: [],
        isActive: true,
      });
      expect(await repository.findById(alice.id)).to.deep.equal({ ...alice, roles: [], isActive: true });
    });

    it('update of an unknown user answers null', async () => {
      expect(await repository.update(4242, { isActive: false })).to.equal(null);
    });

    it('list pages users in id order and counts them all', async () => {
      const users = [];
      for (const name of ['u1', 'u2', 'u3', 'u4', 'u5']) users.push(await created(repository, newUser(name)));
      expect(await repository.list({ offset: 1, limit: 2 })).to.deep.equal({ users: users.slice(1, 3), total: 5 });
      expect(await repository.list({ offset: 4, limit: 10 })).to.deep.equal({ users: users.slice(4), total: 5 });
      expect(await repository.list({ offset: 10, limit: 10 })).to.deep.equal({ users: [], total: 5 });
    });
  });
}
