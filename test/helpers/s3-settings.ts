// Example settings of the S3 repository for unit tests (no server behind them).
export const baseEnv = { POSTGRES_ADMIN_PASSWORD: 'admin-pass-123', POSTGRES_REPLICATOR_PASSWORD: 'repl-pass-123' };
export const s3Env = {
  BACKUP_S3_BUCKET: 'acme-pg-backups',
  BACKUP_S3_ENDPOINT: 'minio.example.net:9000',
  BACKUP_S3_ACCESS_KEY: 'AKIAEXAMPLEKEY',
  BACKUP_S3_SECRET_KEY: 'wJalrXUtnFEMI-secret-key',
  BACKUP_S3_URI_STYLE: 'path',
  BACKUP_CIPHER_PASS: 'a-long-enough-passphrase-0123456789',
};
