import { expect } from 'chai';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  checkNewPassword,
  normalizePassword,
} from '../../../src/domain/password-policy.js';
import { ZxcvbnCommonPasswords } from '../../../src/infrastructure/security/zxcvbn-common-passwords.js';

const notCommon = () => false;
const common = new ZxcvbnCommonPasswords();
const isCommon = (password: string) => common.contains(password);

function refusal(input: string, list: (password: string) => boolean = notCommon): string {
  const result = checkNewPassword(input, list);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  expect(result.error.code).to.equal('InvalidInput');
  expect(result.error.field).to.equal('password');
  return result.error.message;
}

function accepted(input: string, list: (password: string) => boolean = notCommon): string {
  const result = checkNewPassword(input, list);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.error)}`);
  return result.value;
}

describe('domain: password policy', () => {
  it('has the contract limits of 8 and 128 code points', () => {
    expect([PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH]).to.deep.equal([8, 128]);
  });

  it('accepts 8 and 128 characters, refuses 7 and 129', () => {
    expect(accepted('a'.repeat(8))).to.equal('a'.repeat(8));
    expect(accepted('a'.repeat(128))).to.equal('a'.repeat(128));
    expect(refusal('a'.repeat(7))).to.equal('password must be at least 8 characters');
    expect(refusal('a'.repeat(129))).to.equal('password must be at most 128 characters');
  });

  it('counts an astral character as one code point, not two UTF-16 units', () => {
    expect(accepted('😀'.repeat(8))).to.equal('😀'.repeat(8));
    expect(refusal('😀'.repeat(7)), '7 emoji are 14 UTF-16 units but 7 code points').to.equal(
      'password must be at least 8 characters',
    );
    expect(accepted('😀'.repeat(128))).to.equal('😀'.repeat(128));
    expect(refusal('😀'.repeat(129))).to.equal('password must be at most 128 characters');
  });

  it('measures the length after NFKC: ligatures that expand can reach the minimum', () => {
    // 4 code points as typed, 8 after NFKC ("ﬁ" -> "fi").
    expect(accepted('ﬁﬁﬁﬁ')).to.equal('fifififi');
    // 128 as typed, 129 after NFKC.
    expect(refusal('a'.repeat(127) + 'ﬁ')).to.equal('password must be at most 128 characters');
  });

  it('measures the length after NFKC: decomposed accents that compose can fall below the minimum', () => {
    const decomposed = 'e\u0301'.repeat(4); // 8 code points as typed, 4 after NFKC
    expect([...decomposed]).to.have.length(8);
    expect(refusal(decomposed)).to.equal('password must be at least 8 characters');
  });

  it('returns the NFKC form, so NFC and NFD spellings hash alike', () => {
    const nfd = 'Cafe\u0301-Ｐａｓｓ-2024';
    const value = accepted(nfd);
    expect(value).to.equal('Café-Pass-2024');
    expect(value).to.equal(normalizePassword('Café-Pass-2024'));
    expect(accepted('Café-Pass-2024')).to.equal(value);
  });

  it('never truncates: a long password is returned whole, never cut to fit', () => {
    const long = 'x'.repeat(100) + 'TAIL-0123456789-abcdefghijklmn';
    expect([...long]).to.have.length(130);
    expect(refusal(long)).to.equal('password must be at most 128 characters');
    const max = 'y'.repeat(120) + 'END12345';
    expect(accepted(max)).to.equal(max);
  });

  it('allows any characters: spaces, symbols, control characters and other scripts', () => {
    for (const password of [
      '  spaces  ',
      'pa\u0000ss\tword',
      'пароль-очень-длинный',
      '密码密码密码密码',
      '"\'<>;--\\',
    ]) {
      expect(accepted(password), JSON.stringify(password)).to.equal(password.normalize('NFKC'));
    }
  });

  it('refuses a common password whatever its case or width', () => {
    const message = 'password is too common; choose one that is not on a list of common passwords';
    for (const password of ['password', 'PassWord', 'PASSWORD', 'ｐａｓｓｗｏｒｄ', 'iloveyou', 'SunShine']) {
      expect(refusal(password, isCommon), password).to.equal(message);
    }
    expect(accepted('correct horse battery staple', isCommon)).to.equal('correct horse battery staple');
  });

  it('asks the common-password list with the normalized password', () => {
    const asked: string[] = [];
    checkNewPassword('ＬｏｎｇＥｎｏｕｇｈ', (candidate) => (asked.push(candidate), false));
    expect(asked).to.deep.equal(['LongEnough']);
  });

  it('refuses a lone surrogate (it would hash as U+FFFD, so \\ud800 and \\udc00 would be one password)', () => {
    for (const password of ['pass\ud800word1', 'password\udc00', '\udbffpassword']) {
      expect(refusal(password), JSON.stringify(password)).to.equal(
        'password must be well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF), which is no character',
      );
    }
    expect(accepted('pass😀word-long')).to.equal('pass😀word-long');
  });
});
