#!/usr/bin/env bash
# Records the class-data-sharing archive the solulens launcher maps (cli/target/solulens.jsa; see the launcher): one
# sweep of the bundled demo model, with its report, through the launcher itself so that the JVM options match, then a
# check that a run really maps the archive. Run by `mvn package` after the jar is built. The archive only saves start-up
# time: where recording fails the build goes on without it and says why, except under CI, where it is an error.
set -uo pipefail
cli="$(cd "$(dirname "$0")" && pwd)"
launcher="$cli/../solulens"
archive="$cli/target/solulens.jsa"
work=$(mktemp -d -t solulens-record-classes.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "record-classes.sh: $1; runs will load their classes without an archive" >&2
  rm -f "$archive"
  if [ -n "${CI:-}" ]; then exit 1; fi
  exit 0
}

rm -f "$archive"
if ! SOLULENS_RECORD_CLASSES="$work/solulens.jsa" "$launcher" sweep --model demo --prompt "The quick brown fox jumps over the lazy dog" \
    --no-cache --quiet --out "$work/sweep" >"$work/log" 2>&1; then
  tail -20 "$work/log" >&2
  fail "the demo sweep that records the archive failed"
fi
[ -s "$work/solulens.jsa" ] || fail "the JVM wrote no archive ($(java -version 2>&1 | head -1))"
mv "$work/solulens.jsa" "$archive"
# The launcher silences the JVM's warnings about an archive it cannot use; the class-loading log says where Main came from.
SOLULENS_JAVA_OPTS="-Xlog:class+load=info:file=$work/classes.log" "$launcher" --version >/dev/null 2>&1 || fail "solulens --version failed"
grep -q "org.solulens.cli.Main source: shared objects file (top)" "$work/classes.log" || fail "a run does not map $archive"
echo "record-classes.sh: $(du -h "$archive" | cut -f1) of classes recorded into $archive"
