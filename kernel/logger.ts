import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * The root structured JSON logger. Components take a child (`logger.child({ component })`)
 * so every line says where it came from. Secrets are redacted by path, never logged.
 */
export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'driftguard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'apiToken',
          '*.apiToken',
          'token',
          '*.token',
          'secret',
          '*.secret',
          'authorization',
          '*.authorization',
          'password',
          '*.password',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}
