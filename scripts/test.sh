#!/usr/bin/env bash
# scripts/test.sh: the one command that runs deja's whole test suite.
#
#   scripts/test.sh [extra Maven arguments, e.g. -pl recorder -Dtest=SomeIT]
#
# Uses the JDK scripts/install.sh chose (.deja-java-home; found again if that
# file is missing) and runs `mvn -B -ntp verify`: unit tests (*Test) and the
# tests that trace real processes (*IT). Those need root or ptrace permission
# (kernel.yama.ptrace_scope 0 or 1 for one's own children). Exits with Maven's status.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JDK=''
if [[ -f .deja-java-home ]]; then JDK=$(<.deja-java-home); fi
if [[ -z $JDK || ! -x $JDK/bin/java ]]; then
  JDK=$("$ROOT/scripts/install.sh" --java-home) || exit 1
fi
export JAVA_HOME=$JDK
export PATH=$JDK/bin:$PATH
# Maven's own guava calls sun.misc.Unsafe: keep JDK 25's warning about it out of the output.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"

command -v mvn >/dev/null || { echo "test: error: mvn not found: run scripts/install.sh first" >&2; exit 1; }
if (( EUID != 0 )); then
  scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)
  if (( scope > 1 )); then
    echo "test: warning: kernel.yama.ptrace_scope=$scope and not root: the tests that trace processes will fail" >&2
  fi
fi

echo "test: JDK $JDK; mvn -B -ntp verify $*" >&2
exec mvn -B -ntp verify "$@"
