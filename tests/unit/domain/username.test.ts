import { expect } from 'chai';
import { USERNAME_MAX_LENGTH, usernameKey, validateUsername } from '../../../src/domain/username.js';

function refusal(input: string): { field: string; message: string } {
  const result = validateUsername(input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused, got ok`);
  expect(result.error.code).to.equal('InvalidInput');
  return { field: result.error.field, message: result.error.message };
}

describe('domain: validateUsername', () => {
  it('accepts a plain name and returns it exactly as given', () => {
    expect(validateUsername('Alice')).to.deep.equal({ ok: true, value: 'Alice' });
  });

  it('keeps case, full-width forms and inner spaces: the name is stored as given', () => {
    for (const name of ['Ａｌｉｃｅ', 'ALICE', 'alice smith', 'Zoë', '山田太郎', 'a', 'émile 😀']) {
      expect(validateUsername(name), name).to.deep.equal({ ok: true, value: name });
    }
  });

  it('counts code points, so 64 astral characters fit and 65 do not', () => {
    expect(USERNAME_MAX_LENGTH).to.equal(64);
    expect(validateUsername('😀'.repeat(64)).ok, '64 emoji (128 UTF-16 units)').to.equal(true);
    expect(refusal('😀'.repeat(65)).field).to.equal('username');
  });

  it('accepts 1 and 64 characters and refuses 0 and 65', () => {
    expect(validateUsername('x').ok).to.equal(true);
    expect(validateUsername('x'.repeat(64)).ok).to.equal(true);
    expect(refusal('')).to.deep.equal({ field: 'username', message: 'username must be 1 to 64 characters' });
    expect(refusal('x'.repeat(65))).to.deep.equal({
      field: 'username',
      message: 'username must be 1 to 64 characters',
    });
  });

  it('refuses control, format, line-separator and private-use characters', () => {
    for (const name of [
      'al\u0000ice',
      'al\tice',
      'ali\nce',
      'al\u200bice',
      'al\u2028ice',
      'al\u202eice',
      'al\ue000ice',
      'al\u007fice',
    ]) {
      expect(refusal(name), JSON.stringify(name)).to.deep.equal({
        field: 'username',
        message: 'username must contain only printable characters',
      });
    }
  });

  it('refuses a lone surrogate, naming the rule (issue 9, point 4)', () => {
    for (const name of ['ali\ud800ce', 'alice\udc00', '\udbffalice']) {
      expect(refusal(name).message, JSON.stringify(name)).to.equal(
        'username must be well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF), which is no character',
      );
    }
    expect(validateUsername('ali😀ce').ok, 'a surrogate pair is a character').to.equal(true);
  });

  it('refuses leading or trailing white space, including non-breaking and ideographic spaces', () => {
    for (const name of [' alice', 'alice ', '\u00a0alice', 'alice\u3000', ' ']) {
      expect(refusal(name), JSON.stringify(name)).to.deep.equal({
        field: 'username',
        message: 'username must not start or end with white space',
      });
    }
  });
});

describe('domain: usernameKey', () => {
  it('folds case and NFKC so full-width and upper-case spellings are one user', () => {
    expect(usernameKey('Ａｌｉｃｅ')).to.equal('alice');
    expect(usernameKey('ALICE')).to.equal('alice');
    expect(usernameKey('alice')).to.equal('alice');
  });

  it('unifies composed and decomposed accents and compatibility ligatures', () => {
    expect(usernameKey('Zoe\u0308')).to.equal(usernameKey('Zoë'));
    expect(usernameKey('ﬁsh')).to.equal('fish');
    expect(usernameKey('\u212aelvin')).to.equal('kelvin');
  });

  it('folds a word-final capital sigma as PostgreSQL lower() and Unicode case folding do (ΟΔΟΣ ~ οδοσ)', () => {
    // The unique index is lower(normalize(username, NFKC)), which maps Σ to σ everywhere; String#toLowerCase maps a
    // word-final Σ to ς, so the in-memory store and the database disagree on who is the same user.
    expect(usernameKey('ΟΔΟΣ')).to.equal('οδοσ');
    expect(usernameKey('ΟΔΟΣ')).to.equal(usernameKey('οδοσ'));
  });

  it('keeps different names apart', () => {
    expect(usernameKey('alice')).to.not.equal(usernameKey('alice2'));
    expect(usernameKey('alice')).to.not.equal(usernameKey('alicе')); // Cyrillic е
  });
});
