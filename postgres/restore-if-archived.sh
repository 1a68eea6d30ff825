#!/bin/sh
# restore_command of a node whose only repository is pgBackRest's posix repo1: answers "not there"
# (exit 1) at once for a file repo1 does not hold, and hands every other request to archive-get.
#
#   restore-if-archived.sh <repo1 path> <stanza> <%f> <%p> [pgbackrest option...]
#
# A standby whose primary is gone asks for the next history file and the next segment over and
# over, and a promotion asks three more times; each pgBackRest start costs 50-170 ms in a busy
# container, and the startup process notices a promote request only between those calls. The look
# errs only towards asking pgBackRest: history files sit in archive/<stanza>/<archive id>/, segments
# (and .partial) in the folder of their first 16 characters, named <file>-<sha1>[.<compression>],
# encrypted or not. Not valid with a second repository: a file only repo2 holds would be "not there".
#
# Used by the local runtime (copied beside the nodes' pgBackRest configuration) and by the Docker
# node image (/usr/local/bin). Exit 1 is "not there" for PostgreSQL; above 125 it would end recovery.
[ $# -ge 4 ] || { echo "usage: $0 <repo1 path> <stanza> <%f> <%p> [pgbackrest option...]" >&2; exit 1; }
repo=$1 stanza=$2 file=$3 dest=$4
shift 4
archive="$repo/archive/$stanza"
folder=$(printf '%s' "$file" | cut -c1-16)
for f in "$archive"/*/"$file" "$archive"/*/"$folder"/"$file"-*; do
  if [ -e "$f" ]; then exec pgbackrest "$@" --stanza="$stanza" archive-get "$file" "$dest"; fi
done
exit 1
