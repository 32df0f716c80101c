import unhomoglyph from 'unhomoglyph';

/**
 * The confusable skeleton of UTS #39 §4 of a username's key: NFD, without default-ignorable code points, each code
 * point replaced by its prototype from the Unicode confusables table, NFD again. Two names with one skeleton look
 * alike ("paypal" with a Cyrillic а, "rn" and "m"), so a new name whose skeleton is another user's counts as taken.
 *
 * The table comes from unhomoglyph (confusables.txt, generated from Unicode's data and kept as a package), not typed
 * by hand; it is applied to the lower-cased key, so the skeleton ignores case as the key does.
 */
export function usernameSkeleton(key: string): string {
  const decomposed = key.normalize('NFD').replace(/\p{Default_Ignorable_Code_Point}/gu, '');
  return unhomoglyph(decomposed).normalize('NFD');
}
