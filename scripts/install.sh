#!/usr/bin/env bash
# scripts/install.sh: the one command that installs what deja needs and builds it.
#
#   scripts/install.sh              find a JDK 25, install missing Debian packages, build everything
#   scripts/install.sh --java-home  only find the JDK 25, record it in .deja-java-home and print it
#
# The JDK: $JAVA_HOME if it is 25 or newer, else the newest /usr/lib/jvm/*
# whose bin/java is 25 or newer. Debian 12 ships no JDK 25: install one (e.g.
# Temurin 25) under /usr/lib/jvm or point JAVA_HOME at it.
# The chosen JDK is written to .deja-java-home at the repo root; ./deja and
# scripts/test.sh use the same one.
# Idempotent: packages already there are not touched, apt-get update runs only
# when something is missing, and Maven rebuilds only what changed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MIN_JAVA=25
JVM_DIR=${DEJA_JVM_DIR:-/usr/lib/jvm}   # where JDKs are looked for
PACKAGES=(maven gcc make strace libc6-dev time gdb)

say() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

# Major version of a java binary ("25" for 25.0.1, "1" for 1.8), empty if it does not run.
java_major() {
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | awk -F'= *' '/^ *java\.specification\.version/ {print $2; exit}') || true
  printf '%s' "${v%%.*}"
}

is_jdk25() { # $1 = candidate JAVA_HOME
  local home=$1 major
  [[ -x $home/bin/java && -x $home/bin/javac ]] || return 1
  major=$(java_major "$home/bin/java")
  [[ $major =~ ^[0-9]+$ ]] && (( major >= MIN_JAVA ))
}

find_jdk() {
  if [[ -n ${JAVA_HOME:-} ]]; then
    if is_jdk25 "$JAVA_HOME"; then printf '%s' "$JAVA_HOME"; return 0; fi
    say "JAVA_HOME=$JAVA_HOME is not a JDK $MIN_JAVA+; looking under $JVM_DIR"
  fi
  local best='' best_major=0 cand major
  for java in "$JVM_DIR"/*/bin/java; do
    [[ -x $java ]] || continue
    cand=$(cd "$(dirname "$java")/.." && pwd -P)
    is_jdk25 "$cand" || continue
    major=$(java_major "$java")
    if (( major > best_major )); then best=$cand; best_major=$major; fi
  done
  [[ -n $best ]] || return 1
  printf '%s' "$best"
}

choose_jdk() {
  local jdk
  if ! jdk=$(find_jdk); then
    say "no JDK $MIN_JAVA or newer found."
    say "  looked at: JAVA_HOME=${JAVA_HOME:-<unset>} and $JVM_DIR/*/bin/java"
    for java in "$JVM_DIR"/*/bin/java; do
      if [[ -x $java ]]; then say "  found $(dirname "$(dirname "$java")"): java $(java_major "$java")"; fi
    done
    die "deja needs a JDK $MIN_JAVA (the FFM API). Install one (e.g. Temurin 25) under /usr/lib/jvm, or set JAVA_HOME to it, then rerun scripts/install.sh."
  fi
  printf '%s\n' "$jdk" > "$ROOT/.deja-java-home"
  printf '%s' "$jdk"
}

if [[ ${1:-} == --java-home ]]; then
  choose_jdk; echo
  exit 0
elif [[ $# -gt 0 ]]; then
  die "unknown argument: $1 (usage: scripts/install.sh [--java-home])"
fi

JDK=$(choose_jdk)
say "JDK: $JDK (java $(java_major "$JDK/bin/java")), recorded in .deja-java-home"

# --- Debian packages ---------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done
if (( ${#missing[@]} )); then
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]}, and no apt-get to install them (deja's install script supports Debian/Ubuntu)"
  SUDO=()
  if (( EUID != 0 )); then
    command -v sudo >/dev/null || die "missing packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"
    SUDO=(sudo)
  fi
  say "installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q >/dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  say "packages: all present (${PACKAGES[*]})"
fi

# --- a browser for the tests --------------------------------------------------
# ReportIT opens the pages `deja report` writes in headless Chromium (Debian's chromium). deja itself
# does not need it: where it cannot be installed the test skips its browser half, except in CI
# (CI=true), where a missing browser fails the test; so there a failed install stops here.
BROWSER=chromium
if [[ ${DEJA_NO_BROWSER:-} == 1 ]]; then
  say "browser: not installed (DEJA_NO_BROWSER=1): ReportIT skips its browser checks outside CI"
elif [[ $(dpkg-query -W -f='${db:Status-Status}' "$BROWSER" 2>/dev/null || true) == installed ]]; then
  say "browser: $BROWSER present (for ReportIT)"
else
  SUDO=()
  if (( EUID != 0 )) && command -v sudo >/dev/null; then SUDO=(sudo); fi
  if (( EUID != 0 )) && (( ${#SUDO[@]} == 0 )); then
    msg="$BROWSER is missing and this is not root: run 'apt-get install $BROWSER' as root for ReportIT's browser checks"
    [[ ${CI:-} == true ]] && die "$msg"
    say "warning: $msg (skipped without it)"
  else
    say "installing $BROWSER (for ReportIT's browser checks; DEJA_NO_BROWSER=1 skips this)"
    if ! { "${SUDO[@]}" apt-get update -q >/dev/null \
           && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$BROWSER" >/dev/null; }; then
      [[ ${CI:-} == true ]] && die "apt-get install $BROWSER failed"
      say "warning: apt-get install $BROWSER failed: ReportIT skips its browser checks"
    fi
  fi
fi

# --- build -------------------------------------------------------------------
export JAVA_HOME=$JDK
export PATH=$JDK/bin:$PATH
# Maven's own guava calls sun.misc.Unsafe: keep JDK 25's warning about it out of the output.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
say "building: mvn -B -q -DskipTests install"
cd "$ROOT"
rc=0
rm -rf "$ROOT/cli/target/lib"   # the launcher's class path is every jar there: none left from older dependencies
mvn -B -q -DskipTests install || rc=$?
(( rc == 0 )) || die "the build failed (mvn -B -q -DskipTests install, exit $rc): see Maven's errors above"
# A training run records deja's own startup into an AOT cache the launcher then uses (JDK 25's
# -XX:AOTCacheOutput: classes loaded and linked, method profiles). dev.deja.cli.Training runs, in one
# JVM, what a first use runs: --help, a recording of /bin/true, ls, info and its replay, in a scratch
# DEJA_HOME (docs/performance.md, "Start time": with the steps below, --help, ls and info start in about
# half the time they took with a cache trained on replay alone). It runs in the scratch
# directory, so that a JVM crash report, if any, goes with it. A cache that could not be made (an
# empty file is what a failed assembly leaves) is removed: deja works without it, only starts slower.
aot=$ROOT/cli/target/deja.aot
rm -f "$aot"
train=$(mktemp -d)
# picocli and slf4j (Chronicle's logging API) ship Java 5 class files, which the cache cannot hold:
# scripts/ClassFrames.java rewrites them in cli/target/lib as Java 6 ones with stack map frames (ASM,
# which the build puts in cli/target/tools), so that their classes come from the cache too (about 0.08 s and 0.03 s of
# every command).
lib=$ROOT/cli/target/lib
asm=("$ROOT"/cli/target/tools/asm-[0-9]*.jar)
for old in "$lib"/picocli-*.jar "$lib"/slf4j-api-*.jar "$lib"/slf4j-nop-*.jar; do
  name=$(basename "$old" .jar)
  if [[ -f $old && -f ${asm[0]} ]] \
     && n=$("$JDK/bin/java" -cp "${asm[0]}:$old" "$ROOT/scripts/ClassFrames.java" "$old" 2>"$train/frames.log"); then
    say "$name: $n Java 5 class files given stack map frames, for the startup cache"
  else
    say "warning: $name's class files could not be rewritten ($(head -c 300 "$train/frames.log" 2>/dev/null)); the startup cache holds fewer classes"
  fi
done
train_rc=0
(cd "$train" && DEJA_HOME="$train/home" DEJA_AOT_TRAIN=1 "$ROOT/deja") >"$train/log" 2>&1 || train_rc=$?
if [[ -s $aot ]]; then
  say "startup cache: cli/target/deja.aot"
  (( train_rc == 0 )) || say "warning: the training run for the startup cache failed (exit $train_rc); the cache covers less: $(grep -m1 '^deja:' "$train/log" || true)"
else
  rm -f "$aot"
  say "warning: the startup cache could not be made (exit $train_rc); deja works without it, only starts slower"
fi
rm -rf "$train"
say "done: ./deja is ready; run scripts/test.sh for the test suite"
