import { type Result, fail, ok } from './result.js';
import { type InvalidInput, invalidInput } from './errors.js';
import { LONE_SURROGATE, LONE_SURROGATE_MESSAGE } from './password-policy.js';
import { BIDI_CLASSES, type BidiClass } from './generated/bidi-classes.js';

export const USERNAME_MAX_LENGTH = 64;

/**
 * The username rules, in SPEC terms (SPEC: "1 to 64 printable characters", "compared after NFKC and case folding"),
 * made precise with the PRECIS UsernameCaseMapped profile of RFC 8265:
 *
 * 1. The name as given is 1 to 64 code points and well-formed Unicode. It is stored as given.
 * 2. It is prepared as RFC 8265 §3.3.1 says: full-width and half-width forms mapped to their plain forms, lower-cased
 *    code point by code point, then NFC.
 * 3. The prepared name is words separated by single spaces (RFC 8265 §3.5 lets an application allow spaces this way;
 *    the seed had names like "alice smith"), no space at either end.
 * 4. Every code point of each word is valid in the PRECIS IdentifierClass (RFC 8264 §9, with the exceptions of RFC 5892
 *    §2.6 and the contextual rules of its appendix A): letters, digits, combining marks and printable ASCII. Refused,
 *    each with its rule named: unassigned code points; invisible ones (default-ignorable, such as U+3164 HANGUL FILLER,
 *    U+034F or the variation selectors, and noncharacters); bidi controls; joiners (ZWJ and ZWNJ: RFC 8264 allows
 *    them in a few scripts' contexts, this service nowhere, since they are invisible); old Hangul jamo (U+115F and the
 *    other conjoining fillers); controls; compatibility characters (U+2800 braille blank, math alphanumerics,
 *    ligatures: type the plain letter); other symbols, punctuation and spaces.
 * 5. No word starts with a combining mark (as IDNA requires of labels), which would join whatever is shown before it.
 * 6. A name with right-to-left characters follows the bidi rule (RFC 5893) in every word.
 *
 * Two names are one user when their {@link usernameKey}s are equal, and a new name is also taken when its confusable
 * skeleton (UTS #39) is another user's: that check needs the confusables data, so the user store makes it.
 */
export function validateUsername(input: string): Result<string, InvalidInput> {
  if (LONE_SURROGATE.test(input)) return fail(invalidInput('username', LONE_SURROGATE_MESSAGE('username')));
  const length = [...input].length;
  if (length < 1 || length > USERNAME_MAX_LENGTH) {
    return fail(invalidInput('username', `username must be 1 to ${USERNAME_MAX_LENGTH} characters`));
  }
  const typed = typedCodePointRefusal(input);
  if (typed !== undefined) return fail(invalidInput('username', typed));
  const prepared = lowerCase(mapWidth(input)).normalize('NFC');
  const words = prepared.split(' ');
  if (words.some((word) => word === '')) {
    return fail(
      invalidInput('username', 'username may hold single spaces between words, and none at the start or the end'),
    );
  }
  for (const word of words) {
    if (/^\p{M}/u.test(word)) {
      return fail(invalidInput('username', 'username must not start a word with a combining mark'));
    }
    const refusal = identifierClassRefusal([...word]);
    if (refusal !== undefined) return fail(invalidInput('username', refusal));
  }
  if ([...prepared].some((char) => RIGHT_TO_LEFT.has(bidiClass(char)))) {
    const broken = words.find((word) => !satisfiesBidiRule([...word]));
    if (broken !== undefined) {
      return fail(
        invalidInput(
          'username',
          'username mixes right-to-left and left-to-right text in a way that can display misleadingly ' +
            '(the bidi rule of RFC 5893)',
        ),
      );
    }
  }
  return ok(input);
}

/**
 * The form names are compared and looked up in: NFKC, then lower-cased code point by code point, then NFC. For a name
 * {@link validateUsername} accepts, this is its RFC 8265 prepared form; for any other string (a login with a name
 * typed in a compatibility form, a row written before these rules) it is what the seed's `lower(normalize(username,
 * NFKC))` gave, computed here rather than by PostgreSQL so that it is the same on every server, whatever its locale.
 */
export function usernameKey(username: string): string {
  return lowerCase(username.normalize('NFKC')).normalize('NFC');
}

/** Full-width and half-width forms (U+3000, U+FF00 to U+FFEF) to their plain forms (RFC 8265 §3.3.1 width mapping). */
function mapWidth(text: string): string {
  return text.replace(/[\u3000\uFF00-\uFFEF]/gu, (char) => char.normalize('NFKC'));
}

/**
 * Lower case, one code point at a time: the same result for a letter wherever it stands (String#toLowerCase would map
 * a word-final Σ to ς, any other to σ), and İ is plain i, as PostgreSQL's lower() maps it, not i + U+0307.
 */
function lowerCase(text: string): string {
  let lowered = '';
  for (const char of text) lowered += char === '\u0130' ? 'i' : char.toLowerCase();
  return lowered;
}

const hex = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** RFC 5892 §2.6: code points whose IdentifierClass value is fixed by exception. */
const EXCEPTION_PVALID = new Set([0x00df, 0x03c2, 0x06fd, 0x06fe, 0x0f0b, 0x3007]);
const EXCEPTION_DISALLOWED = new Set([0x0640, 0x07fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b]);
const ARABIC_INDIC_DIGIT = /[\u0660-\u0669]/u;
const EXTENDED_ARABIC_INDIC_DIGIT = /[\u06F0-\u06F9]/u;
/** RFC 5892 §2.9 OldHangulJamo: Hangul_Syllable_Type L, V or T (conjoining jamo, the fillers U+115F and U+1160 too). */
const OLD_HANGUL_JAMO = /[\u1100-\u11FF\uA960-\uA97C\uD7B0-\uD7C6\uD7CB-\uD7FB]/u;
const LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;
const OTHER_LETTER_DIGITS = /[\p{Lt}\p{Nl}\p{No}\p{Me}]/u;

/**
 * Why a code point is not valid in the IdentifierClass, with the rule's name, or undefined when it is valid. The
 * refusal names `typed`, the code point as the user typed it, which preparation may have mapped to `char`.
 */
function codePointRefusal(char: string, typed = char): string | undefined {
  const code = char.codePointAt(0)!;
  const refused = (what: string) => `username must not contain ${hex(typed)}: ${what}`;
  // The order of RFC 8264 §8: the first rule that applies decides.
  if (EXCEPTION_PVALID.has(code)) return undefined;
  if (EXCEPTION_DISALLOWED.has(code)) return refused('a character RFC 5892 excludes from identifiers');
  if (/\p{Cn}/u.test(char)) return refused('an unassigned code point');
  if (code >= 0x21 && code <= 0x7e) return undefined;
  if (/\p{Join_Control}/u.test(char)) return refused('an invisible joiner');
  if (OLD_HANGUL_JAMO.test(char)) return refused('an old Hangul jamo or Hangul filler');
  if (/\p{Bidi_Control}/u.test(char)) return refused('a bidirectional control character');
  if (/[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u.test(char)) {
    return refused('an invisible (default-ignorable) code point');
  }
  if (/\p{Cc}/u.test(char)) return refused('a control character');
  if (/\p{Zs}/u.test(char)) return refused('a space other than a single space between words');
  if (char.normalize('NFKC') !== char) {
    return refused('a compatibility character (a styled, spaced or combined form); use the plain character');
  }
  if (LETTER_DIGITS.test(char)) return undefined;
  if (OTHER_LETTER_DIGITS.test(char)) return refused('a letter or number form that identifiers exclude');
  if (/[\p{Zl}\p{Zp}]/u.test(char)) return refused('a line or paragraph separator');
  if (/\p{S}/u.test(char)) return refused('a symbol (only ASCII symbols are allowed)');
  if (/\p{P}/u.test(char)) return refused('punctuation (only ASCII punctuation is allowed)');
  if (/\p{Co}/u.test(char)) return refused('a private-use code point');
  return refused('a code point identifiers exclude');
}

/**
 * The code point checks, one typed code point at a time, so that a refusal names what the user typed (U+2167, not the
 * U+2177 that lower-casing made of it). Code points whose validity depends on their neighbours, and the spaces that
 * separate words, are left to the checks of the prepared name.
 */
function typedCodePointRefusal(input: string): string | undefined {
  for (const char of input) {
    for (const mapped of lowerCase(mapWidth(char)).normalize('NFC')) {
      if (mapped === ' ' || contextRefusal([mapped], 0) !== undefined) continue;
      const reason = codePointRefusal(mapped, char);
      if (reason !== undefined) return reason;
    }
  }
  return undefined;
}

/** The IdentifierClass check of one word, with the contextual rules of RFC 5892 appendix A for CONTEXTO code points. */
function identifierClassRefusal(chars: readonly string[]): string | undefined {
  for (const [index, char] of chars.entries()) {
    const contextual = contextRefusal(chars, index);
    if (contextual === null) continue;
    if (contextual !== undefined) return contextual;
    const refusal = codePointRefusal(char);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/**
 * RFC 5892 appendix A, for the CONTEXTO code points: null when the code point is one and its context allows it, a
 * refusal when it is one and its context does not, undefined when it is not one.
 */
function contextRefusal(chars: readonly string[], index: number): string | null | undefined {
  const char = chars[index]!;
  const before = chars[index - 1];
  const after = chars[index + 1];
  const allowed = (ok: boolean, context: string) =>
    ok ? null : `username may contain ${hex(char)} only ${context} (RFC 5892, appendix A)`;
  switch (char) {
    case '\u00B7':
      return allowed(before === 'l' && after === 'l', "between two l's (as in Catalan l·l)");
    case '\u0375':
      return allowed(after !== undefined && /\p{Script=Greek}/u.test(after), 'before a Greek letter');
    case '\u05F3':
    case '\u05F4':
      return allowed(before !== undefined && /\p{Script=Hebrew}/u.test(before), 'after a Hebrew letter');
    case '\u30FB':
      return allowed(
        chars.some((other) => /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(other)),
        'in a name with Hiragana, Katakana or Han',
      );
    default:
      if (ARABIC_INDIC_DIGIT.test(char)) {
        return allowed(
          !chars.some((other) => EXTENDED_ARABIC_INDIC_DIGIT.test(other)),
          'without extended Arabic-Indic digits',
        );
      }
      if (EXTENDED_ARABIC_INDIC_DIGIT.test(char)) {
        return allowed(!chars.some((other) => ARABIC_INDIC_DIGIT.test(other)), 'without Arabic-Indic digits');
      }
      return undefined;
  }
}

type AnyBidiClass = BidiClass | 'other';
const RIGHT_TO_LEFT = new Set<AnyBidiClass>(['R', 'AL', 'AN']);
const RTL_WORD = new Set<AnyBidiClass>(['R', 'AL', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);
const LTR_WORD = new Set<AnyBidiClass>(['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);

function bidiClass(char: string): AnyBidiClass {
  for (const [name, pattern] of BIDI_CLASSES) if (pattern.test(char)) return name;
  return 'other';
}

/** The six conditions of RFC 5893 §2, for one word of a name that holds right-to-left characters. */
function satisfiesBidiRule(chars: readonly string[]): boolean {
  const classes = chars.map(bidiClass);
  const first = classes[0];
  const last = classes.findLast((name) => name !== 'NSM');
  if (first === 'R' || first === 'AL') {
    return (
      classes.every((name) => RTL_WORD.has(name)) &&
      (last === 'R' || last === 'AL' || last === 'EN' || last === 'AN') &&
      !(classes.includes('EN') && classes.includes('AN'))
    );
  }
  if (first === 'L') return classes.every((name) => LTR_WORD.has(name)) && (last === 'L' || last === 'EN');
  return false;
}
