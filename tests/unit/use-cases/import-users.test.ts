import { expect } from 'chai';
import type { SeedUser, UserSource } from '../../../src/application/ports/user-import.js';
import { ImportUsers } from '../../../src/application/use-cases/import-users.js';
import { InMemoryUserImportTarget } from '../../fakes/in-memory-user-import-target.js';
import { MemoryLogger } from '../../fakes/memory-logger.js';

/** A seed whose users come in batches of two. */
function source(users: readonly SeedUser[]): UserSource {
  return {
    async *users() {
      for (let index = 0; index < users.length; index += 2) yield users.slice(index, index + 2);
    },
    close: async () => undefined,
  };
}

const seedUser = (id: number, username: string): SeedUser => ({
  id,
  username,
  passwordHash: '$pbkdf2-sha512$25000$salt$sum',
  roles: 'user',
  isActive: true,
  email: `${id}@seed.example`,
});

describe('use case: ImportUsers', () => {
  it('imports every user with its id, reports each conflict on one line and counts', async () => {
    const target = new InMemoryUserImportTarget();
    const lines: string[] = [];
    const counts = await new ImportUsers(target, new MemoryLogger()).execute({
      source: source([
        seedUser(1, 'alice'),
        seedUser(2, 'ALICE'),
        seedUser(3, 'bob\u3164'),
        seedUser(4, '\u0430lice'),
        seedUser(9, 'carol'),
      ]),
      report: (line) => lines.push(line),
    });
    expect(counts).to.deep.equal({ read: 5, imported: 4, present: 0, skipped: 1, conflicts: 3 });
    expect(lines).to.have.length(3);
    expect(lines[0]).to.equal('conflict: user 2 "ALICE" is the same name, once folded, as user 1 "alice": skipped');
    expect(lines[1]).to.match(
      /^conflict: user 3 "bob\u3164" is refused by the username rules \(.+\): imported as it is$/,
    );
    expect(lines[2]).to.equal('conflict: user 4 "\u0430lice" looks like user 1\'s name: imported; it keeps logging in');
    expect([...target.rows.keys()]).to.deep.equal([1, 3, 4, 9]);
    expect(target.sequenceAt).to.equal(9);
  });

  it('changes nothing the second time, and goes on past a row that cannot be written', async () => {
    const target = new InMemoryUserImportTarget();
    target.refusing.add(2);
    const users = [seedUser(1, 'alice'), seedUser(2, 'bob'), seedUser(3, 'carol')];
    const importUsers = new ImportUsers(target, new MemoryLogger());
    const lines: string[] = [];
    expect(await importUsers.execute({ source: source(users), report: (line) => lines.push(line) })).to.deep.equal({
      read: 3,
      imported: 2,
      present: 0,
      skipped: 1,
      conflicts: 1,
    });
    expect(lines).to.deep.equal(['conflict: user 2 "bob" could not be written (the row breaks a constraint): skipped']);
    const before = structuredClone([...target.rows]);
    target.refusing.clear();
    const again = await importUsers.execute({ source: source(users.slice(0, 1)), report: () => undefined });
    expect(again).to.deep.equal({ read: 1, imported: 0, present: 1, skipped: 0, conflicts: 0 });
    expect([...target.rows]).to.deep.equal(before);
  });

  it('leaves emails out when the target has no email column, and keeps them when it has', async () => {
    const without = new InMemoryUserImportTarget(false);
    await new ImportUsers(without, new MemoryLogger()).execute({
      source: source([seedUser(1, 'a')]),
      report: () => {},
    });
    expect(without.rows.get(1)).to.not.have.property('email');
    const withEmail = new InMemoryUserImportTarget(true);
    await new ImportUsers(withEmail, new MemoryLogger()).execute({
      source: source([seedUser(1, 'a')]),
      report: () => {},
    });
    expect(withEmail.rows.get(1)?.email).to.equal('1@seed.example');
  });
});
