// Secrets never reach logs or chat: every outgoing string goes through maskSecrets.
// Each pattern captures (prefix)(secret).
const PATTERNS: RegExp[] = [
  /(password\s*=\s*)('[^']*'|"[^"]*"|\S+)/gi,
  /(PASSWORD\s*[:=]\s*)(\S+)/g,
  /(PGPASSWORD=)(\S+)/g,
  /(postgres(?:ql)?:\/\/[^:/\s]+:)([^@\s]+)(?=@)/gi,
  /(xox[abpr]-)([A-Za-z0-9-]+)/g,
  /(xapp-)([A-Za-z0-9-]+)/g,
  /(Bot\s+)([A-Za-z0-9._-]{20,})/g,
  /(SCRAM-SHA-256\$)(\S+)/g,
  // pgBackRest's secure options, in a configuration file or on an (echoed) command line, and as variables.
  /((?:repo\d+-)?(?:cipher-pass|s3-key-secret|s3-key|s3-token)\s*[=:]\s*)(\S+)/gi,
  /(PGBACKREST_REPO\d+_(?:CIPHER_PASS|S3_KEY_SECRET|S3_KEY|S3_TOKEN)=)(\S+)/g,
  /(BACKUP_(?:CIPHER_PASS|S3_SECRET_KEY|S3_ACCESS_KEY)\s*[=:]\s*)(\S+)/g,
  /(AWS_(?:SECRET_ACCESS_KEY|ACCESS_KEY_ID|SESSION_TOKEN)=)(\S+)/g,
];

export class SecretMasker {
  private readonly values: string[];

  constructor(values: string[]) {
    // Longest first so a secret containing another is masked whole.
    this.values = [...new Set(values.filter((v) => v && v.length >= 4))].sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = text;
    for (const v of this.values) out = out.split(v).join('****');
    for (const re of PATTERNS) {
      // Every pattern is (prefix)(secret): keep the prefix so the line still reads.
      out = out.replace(re, (_m, pre: string) => `${pre}****`);
    }
    return out;
  }

  /** Deep-mask any JSON-like value. */
  maskDeep<T>(value: T): T {
    if (typeof value === 'string') return this.mask(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.maskDeep(v)) as T;
    if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.maskDeep(v);
      return out as T;
    }
    return value;
  }
}
