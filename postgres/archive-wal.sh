#!/bin/sh
# Safe archive_command: archive-wal.sh <path %p> <name %f> <archive dir>
# Copy to a temporary name, fsync, rename; an existing file with the same name is
# accepted only if identical (a retried archive), never overwritten.
set -eu
src="$1"; name="$2"; dest="$3"
final="$dest/$name"
if [ -e "$final" ]; then
  if cmp -s "$src" "$final"; then exit 0; fi
  echo "archive-wal: $final already exists with different content; refusing to overwrite" >&2
  exit 1
fi
tmp="$dest/.$name.tmp.$$"
trap 'rm -f "$tmp"' EXIT
cp "$src" "$tmp"
sync "$tmp"
mv "$tmp" "$final"
trap - EXIT
sync "$dest" 2>/dev/null || true
