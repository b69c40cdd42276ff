#!/bin/sh
# expect_fail.sh REGEX CMD [ARGS...]
# Passes when CMD exits with a non-zero status that is not a crash (no signal, no sanitizer
# abort) and its stderr+stdout match the extended regular expression REGEX.
regex=$1
shift
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -eq 0 ]; then
  echo "expect_fail: command succeeded, expected an error" >&2
  exit 1
fi
if [ "$status" -ge 126 ]; then
  echo "expect_fail: command crashed or was killed (status $status)" >&2
  exit 1
fi
if printf '%s\n' "$out" | grep -q -E 'AddressSanitizer|runtime error:|LeakSanitizer'; then
  echo "expect_fail: sanitizer report" >&2
  exit 1
fi
if ! printf '%s\n' "$out" | grep -q -E -- "$regex"; then
  echo "expect_fail: message does not match /$regex/" >&2
  exit 1
fi
exit 0
