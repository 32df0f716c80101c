import type { ListSigningKeys, RotateSigningKey } from '../../application/use-cases/rotate-signing-key.js';
import { EXIT, type CommandIo } from './user-command.js';

export interface KeysCommandDependencies {
  readonly rotateSigningKey: RotateSigningKey;
  readonly listSigningKeys: ListSigningKeys;
}

export const KEYS_USAGE = `usage:
  npm run keys -- list      every signing key with its state (pending, signing, verifying, retired)
  npm run keys -- rotate    a new key: published at once, signing after KEY_PUBLISH_DELAY; the old one retires
                            once the last token it signed has expired`;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/**
 * `npm run keys -- list|rotate`: the token-signing keys every instance shares.
 * @returns the exit code: 0 done, 2 usage error, 3 refused (the keys are not the service's to rotate).
 */
export async function runKeysCommand(
  args: readonly string[],
  io: Pick<CommandIo, 'out' | 'err'>,
  deps: KeysCommandDependencies,
): Promise<number> {
  if (args.length !== 1) {
    io.err(KEYS_USAGE);
    return EXIT.usage;
  }
  switch (args[0]) {
    case 'list': {
      const keys = await deps.listSigningKeys.execute();
      io.out(['kid', 'algorithm', 'state', 'created', 'signs from', 'retires'].join('\t'));
      for (const key of keys) {
        io.out(
          [key.kid, key.algorithm, key.state, iso(key.createdAt), iso(key.activatesAt), iso(key.retiresAt)].join('\t'),
        );
      }
      return EXIT.ok;
    }
    case 'rotate': {
      const result = await deps.rotateSigningKey.execute();
      if (!result.ok) {
        io.err(`cannot rotate: ${result.error.message}`);
        return EXIT.refused;
      }
      const key = result.value;
      io.out(
        `made ${key.algorithm} key ${key.kid}: published now, signs from ${iso(key.activatesAt)}; ` +
          `the keys it replaces verify until ${iso(key.previousRetireAt)}`,
      );
      return EXIT.ok;
    }
    default:
      io.err(`unknown command ${JSON.stringify(args[0])}\n${KEYS_USAGE}`);
      return EXIT.usage;
  }
}
