import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from '../config.js';
import { mkdirPrivate, PRIVATE_FILE } from './private-files.js';
import type { SecretMasker } from './secrets.js';

export type { Logger };

/** pino JSON logs; secrets redacted by key and masked by value in every line. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_TO' | 'home'>, masker: SecretMasker): Logger {
  const file = `${config.home}/logs/clusterbot.log`;
  let destination: pino.DestinationStream;
  if (config.LOG_TO === 'file') {
    mkdirPrivate(dirname(file));
    destination = pino.destination({ dest: file, sync: false, mode: PRIVATE_FILE });
  } else {
    destination = pino.destination(2);
  }
  const masking: pino.DestinationStream = {
    write: (line: string) => destination.write(masker.mask(line)),
  };
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: {
        paths: ['password', '*.password', '*.token', '*.secret', 'signingSecret', '*.signingSecret', 'headers.authorization', '*.headers.authorization'],
        censor: '****',
      },
    },
    masking,
  );
}
