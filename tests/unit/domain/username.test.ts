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
    for (const name of ['Ａｌｉｃｅ', 'ALICE', 'alice smith', 'Zoë', '山田太郎', 'a', 'émile', 'l·l', 'Δelta', 'אבג']) {
      expect(validateUsername(name), name).to.deep.equal({ ok: true, value: name });
    }
  });

  it('counts code points, so 64 astral letters fit and 65 do not', () => {
    expect(USERNAME_MAX_LENGTH).to.equal(64);
    expect(validateUsername('𝒜'.normalize('NFKC').repeat(64)).ok).to.equal(true);
    expect(validateUsername('𠀀'.repeat(64)).ok, '64 astral ideographs (128 UTF-16 units)').to.equal(true);
    expect(refusal('𠀀'.repeat(65)).message).to.equal('username must be 1 to 64 characters');
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

  it('refuses every invisible suffix of issue 9, point 2, naming the code point and the rule', () => {
    const cases: [string, string][] = [
      ['\u3164', 'username must not contain U+3164: an invisible (default-ignorable) code point'],
      ['\u115f', 'username must not contain U+115F: an old Hangul jamo or Hangul filler'],
      ['\u2800', 'username must not contain U+2800: a symbol (only ASCII symbols are allowed)'],
      ['\u034f', 'username must not contain U+034F: an invisible (default-ignorable) code point'],
      ['\ufe0f', 'username must not contain U+FE0F: an invisible (default-ignorable) code point'],
      ['\u{e0100}', 'username must not contain U+E0100: an invisible (default-ignorable) code point'],
      ['\u180b', 'username must not contain U+180B: an invisible (default-ignorable) code point'],
      ['\u17b4', 'username must not contain U+17B4: an invisible (default-ignorable) code point'],
      ['\u200b', 'username must not contain U+200B: an invisible (default-ignorable) code point'],
      ['\u00ad', 'username must not contain U+00AD: an invisible (default-ignorable) code point'],
      ['\u200d', 'username must not contain U+200D: an invisible joiner'],
      ['\u200c', 'username must not contain U+200C: an invisible joiner'],
    ];
    for (const [suffix, message] of cases) {
      expect(refusal(`alice${suffix}`), JSON.stringify(suffix)).to.deep.equal({ field: 'username', message });
    }
  });

  it('refuses bidi controls, controls, unassigned, private-use and separator code points, each by its rule', () => {
    const cases: [string, string][] = [
      ['al\u202eice', 'username must not contain U+202E: a bidirectional control character'],
      ['al\u200fice', 'username must not contain U+200F: a bidirectional control character'],
      ['al\u0000ice', 'username must not contain U+0000: a control character'],
      ['al\tice', 'username must not contain U+0009: a control character'],
      ['ali\nce', 'username must not contain U+000A: a control character'],
      ['al\u007fice', 'username must not contain U+007F: a control character'],
      ['al\u0378ice', 'username must not contain U+0378: an unassigned code point'],
      ['al\ue000ice', 'username must not contain U+E000: a private-use code point'],
      ['al\u2028ice', 'username must not contain U+2028: a line or paragraph separator'],
      ['al\u00a0ice', 'username must not contain U+00A0: a space other than a single space between words'],
      ['al\u2003ice', 'username must not contain U+2003: a space other than a single space between words'],
      ['alice😀', 'username must not contain U+1F600: a symbol (only ASCII symbols are allowed)'],
      ['alice\u00bf', 'username must not contain U+00BF: punctuation (only ASCII punctuation is allowed)'],
      [
        '\u{1d400}lice',
        'username must not contain U+1D400: a compatibility character (a styled, spaced or combined form); use the plain character',
      ],
      [
        'ﬁsh',
        'username must not contain U+FB01: a compatibility character (a styled, spaced or combined form); use the plain character',
      ],
      ['al\u0640ice', 'username must not contain U+0640: a character RFC 5892 excludes from identifiers'],
      [
        '\u2167',
        'username must not contain U+2167: a compatibility character (a styled, spaced or combined form); use the plain character',
      ],
    ];
    for (const [name, message] of cases) {
      expect(refusal(name), JSON.stringify(name)).to.deep.equal({ field: 'username', message });
    }
  });

  it('maps full-width forms before checking, so a full-width name is a plain name (RFC 8265 width mapping)', () => {
    expect(validateUsername('Ａｌｉｃｅ').ok).to.equal(true);
    expect(validateUsername('ａｌｉｃｅ\u3000ｓｍｉｔｈ').ok, 'an ideographic space is a space').to.equal(true);
  });

  it('refuses a lone surrogate, naming the rule (issue 9, point 4)', () => {
    for (const name of ['ali\ud800ce', 'alice\udc00', '\udbffalice']) {
      expect(refusal(name).message, JSON.stringify(name)).to.equal(
        'username must be well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF), which is no character',
      );
    }
    expect(validateUsername('ali𠀀ce').ok, 'a surrogate pair is a character').to.equal(true);
  });

  it('allows single spaces between words and no other spacing', () => {
    expect(validateUsername('alice smith jones').ok).to.equal(true);
    for (const name of [' alice', 'alice ', 'alice  smith', ' ', 'alice\u3000']) {
      expect(refusal(name), JSON.stringify(name)).to.deep.equal({
        field: 'username',
        message: 'username may hold single spaces between words, and none at the start or the end',
      });
    }
  });

  it('refuses a word that starts with a combining mark', () => {
    expect(refusal('\u0301alice').message).to.equal('username must not start a word with a combining mark');
    expect(refusal('bob \u0308x').message).to.equal('username must not start a word with a combining mark');
    expect(validateUsername('Zoe\u0308').ok, 'a mark after a letter is fine').to.equal(true);
  });

  it('applies the contextual rules of RFC 5892 appendix A', () => {
    expect(validateUsername('l·l').ok).to.equal(true);
    expect(refusal('a·b').message).to.equal(
      "username may contain U+00B7 only between two l's (as in Catalan l·l) (RFC 5892, appendix A)",
    );
    expect(validateUsername('\u0375α').ok).to.equal(true);
    expect(refusal('\u0375a').message).to.match(/U\+0375 only before a Greek letter/);
    expect(validateUsername('カ・ナ').ok).to.equal(true);
    expect(refusal('a・b').message).to.match(/U\+30FB only in a name with Hiragana, Katakana or Han/);
    expect(refusal('\u0661\u06f1').message).to.match(/without extended Arabic-Indic digits/);
  });

  it('applies the bidi rule of RFC 5893 to names with right-to-left text', () => {
    expect(validateUsername('שלום').ok).to.equal(true);
    expect(validateUsername('שלום1').ok, 'an RTL word may end in a digit').to.equal(true);
    expect(validateUsername('alice שלום').ok, 'the rule holds per word').to.equal(true);
    for (const name of ['aשלום', 'שלוםa', '1שלום']) {
      expect(refusal(name).message, name).to.match(/the bidi rule of RFC 5893/);
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
