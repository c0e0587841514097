#!/usr/bin/env bash
# bench/run.sh: what recording costs, measured in one run and quoted as ratios.
#
#   bench/run.sh            (env: BENCH_N getppid calls, default 200000;
#                            BENCH_RUNS runs per figure, best kept, default 3;
#                            FLOOR_N calls per floor mechanism, default 50000;
#                            FLOOR_SRC the floor's source, default ../shared/bench/floor.c;
#                            BENCH_ONLY=threads: only the threads section (5), no floor, no strace;
#                            BENCH_ONLY=store: only the blob store section (7);
#                            BENCH_ONLY=start: only the start section (6); BENCH_START_RUNS runs
#                            per start figure, median kept, default 7;
#                            BENCH_XZ_MB size of xz's input, default 20; BENCH_RACY_N the racy
#                            counter's increments per thread, default 100000000; BENCH_JAVA the
#                            java running the ThreadPool sample, default the JDK in .deja-java-home;
#                            BENCH_TIMEOUT seconds before a threads run counts as hung, default 300)
#
# Measures, best of BENCH_RUNS each:
#   - a getppid loop (samples/target/bin/getppid_loop N) natively, under
#     `./deja record`, under `strace -f -o /dev/null`, against the floor
#     (../shared/bench/floor.c: a minimal C tracer, ptrace-syscall and
#     ptrace-seccomp), as ns per call = (traced wall - native wall) / N;
#   - `make -j2` of a generated 40-file C project and `tar cf /dev/null
#     /usr/include`, natively, under deja and under strace -f;
#   - `deja report` of the getppid and tar recordings: its wall time and the page's size;
#   - the recording's size per million events (the bytes `deja info` reports as used,
#     events from `./deja info`) and deja's max RSS (/usr/bin/time %M: the
#     largest process of the tree, i.e. the JVM);
#   - replay: `./deja replay -q` of the getppid, make and `sleep 2` recordings against
#     their native and record walls, and the cost per replayed syscall
#     ((replay wall - replay wall of the N=0 recording) / N) against the floor;
#   - threads: `xz -T2` of a generated BENCH_XZ_MB MB text file (4 MiB blocks, so both of its
#     threads compress), the ThreadPool JVM sample (samples/java: 4 pool threads, 100 tasks) and
#     the racy counter (samples/c/thr_racy_counter BENCH_RACY_N: two threads, no lock, no syscall),
#     natively, under `./deja record` and under `./deja replay` of the last recording, as ratios to
#     native. A replay counts only when it exits with the recorded status and prints the recorded
#     stdout; otherwise the table says why (divergence and deja's message, deja failed, hung, other
#     output). Every run there is under `timeout BENCH_TIMEOUT`: a replay that spins is reported.
#   - store: three recordings of `java -version` into a fresh DEJA_HOME: the first copies the JDK's
#     files into the shared blob store, the next ones hard-link them; each one's wall and the disk it
#     added (du -sk of the home: a hard-linked file counts once), against issue 12's target (< 5 MiB).
#   - start: `deja --help`, `deja ls` (a scratch DEJA_HOME with one recording), `deja info` of it,
#     `deja record /bin/true` and its replay, and `java -version` for the JVM's own start: the median
#     of BENCH_START_RUNS walls each, and the median CPU time (user + sys, all threads: less sensitive
#     to a loaded machine than the wall), against issue 12's targets (0.3 s, 0.6 s).
# Machines here are shared and noisy: read the ratios, not the absolute times.
# Ends with a markdown block for docs/performance.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${BENCH_N:-200000}
RUNS=${BENCH_RUNS:-3}
export FLOOR_N=${FLOOR_N:-50000}
DEJA=${DEJA:-$ROOT/deja}   # the launcher (override to benchmark another build)
LOOP=$ROOT/samples/target/bin/getppid_loop
ONLY=${BENCH_ONLY:-}
XZ_MB=${BENCH_XZ_MB:-20}
RACY_N=${BENCH_RACY_N:-100000000}
TH_TIMEOUT=${BENCH_TIMEOUT:-300}
RACY=$ROOT/samples/target/bin/thr_racy_counter
JCLASSES=$ROOT/samples/target/java
if [[ -n ${BENCH_JAVA:-} ]]; then JAVA_BIN=$BENCH_JAVA
elif [[ -f $ROOT/.deja-java-home ]]; then JAVA_BIN=$(<"$ROOT/.deja-java-home")/bin/java
elif [[ -n ${JAVA_HOME:-} ]]; then JAVA_BIN=$JAVA_HOME/bin/java
else JAVA_BIN=$(command -v java || echo java); fi
FLOOR_SRC=${FLOOR_SRC:-$ROOT/../shared/bench/floor.c}   # override for a checkout elsewhere (a git worktree)
FLOOR=/tmp/floor

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ -z $ONLY || $ONLY == threads || $ONLY == start || $ONLY == store ]] || die "BENCH_ONLY can only be 'threads', 'start' or 'store' (got $ONLY)"
START_RUNS=${BENCH_START_RUNS:-7}
[[ $START_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_START_RUNS must be a positive integer (got $START_RUNS)"
if [[ -z $ONLY ]]; then
  [[ -f $FLOOR_SRC ]] || die "the floor's source is not at $FLOOR_SRC (expected ../shared/bench/floor.c beside the repo)"
  [[ -x $LOOP ]] || die "$LOOP is missing: run scripts/install.sh first"
  command -v strace >/dev/null || die "strace is missing: run scripts/install.sh first"
  command -v gcc >/dev/null && command -v make >/dev/null || die "gcc and make are needed: run scripts/install.sh first"
fi
[[ -x $RACY ]] || die "$RACY is missing: run scripts/install.sh first"
command -v timeout >/dev/null || die "timeout (coreutils) is needed"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer (got $N)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got $RUNS)"
[[ $XZ_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_XZ_MB must be a positive integer (got $XZ_MB)"
[[ $RACY_N =~ ^[1-9][0-9]*$ ]] || die "BENCH_RACY_N must be a positive integer (got $RACY_N)"
[[ $TH_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_TIMEOUT must be a positive integer (got $TH_TIMEOUT)"

HAVE_DEJA=1
if [[ ! -x $DEJA ]]; then
  HAVE_DEJA=0
  say "WARNING: $DEJA not found: the deja figures are skipped (n/a)"
fi
TIME_BIN=''
if [[ -x /usr/bin/time ]]; then TIME_BIN=/usr/bin/time; else say "WARNING: /usr/bin/time missing (package 'time'): no RSS figure"; fi

WORK=$(mktemp -d /tmp/deja-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [[ -z $ONLY ]]; then
  say "building $FLOOR from $FLOOR_SRC"
  gcc -O2 -o "$FLOOR" "$FLOOR_SRC"
fi

# --- helpers -------------------------------------------------------------------
now() { date +%s%N; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }   # calc 'expr' -> number text
fmt() { [[ $1 == n/a ]] && { printf 'n/a'; return; }; awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; }
ratio2() { # ratio2 A B -> A/B with 2 decimals, or n/a
  if [[ $1 == n/a || $2 == n/a ]] || awk -v b="$2" 'BEGIN { exit !(b <= 0) }'; then printf 'n/a'; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
ratio() { # ratio A B -> A/B with 1 decimal, or n/a
  if [[ $1 == n/a || $2 == n/a ]] || awk -v b="$2" 'BEGIN { exit !(b <= 0) }'; then printf 'n/a'; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'
}
min() { if [[ $1 == n/a ]]; then printf '%s' "$2"; elif awk -v a="$1" -v b="$2" 'BEGIN { exit !(b < a) }'; then printf '%s' "$2"; else printf '%s' "$1"; fi; }
ms() { [[ $1 == n/a ]] && { printf 'n/a'; return; }; fmt "$(calc "$1 / 1000000")" '%.0f'; }
us() { [[ $1 == n/a ]] && { printf 'n/a'; return; }; fmt "$(calc "$1 / 1000")" '%.1f'; }

# timed LABEL CMD...: runs CMD once (stdout and stderr to a log), sets LAST_NS.
# A failing command is fatal unless ALLOW_FAIL=1 (then LAST_NS=n/a).
timed() {
  local label=$1 t0 t1 rc=0; shift
  t0=$(now)
  "$@" >"$WORK/log" 2>&1 || rc=$?
  t1=$(now)
  if (( rc != 0 )); then
    say "$label failed (exit $rc): $*"
    tail -n 15 "$WORK/log" | sed 's/^/  | /' >&2
    [[ ${ALLOW_FAIL:-0} == 1 ]] || exit 1
    LAST_NS=n/a; return 0
  fi
  LAST_NS=$(( t1 - t0 ))
}

# best MODE LABEL CMD...: best of RUNS walls (ns) in BEST; MODE native|strace|deja.
# deja runs record into $WORK/rec-LABEL (the last one is kept) and update RSS_KB.
declare -A RSS_KB REC
best() {
  local mode=$1 label=$2 i b=n/a; shift 2
  for (( i = 0; i < RUNS; i++ )); do
    [[ -n ${PRE:-} ]] && eval "$PRE"
    case $mode in
      native) timed "$label" "$@" ;;
      strace) timed "$label under strace" strace -f -o /dev/null "$@" ;;
      deja)
        local rec=$WORK/rec-$label
        rm -rf "$rec"
        if [[ -n $TIME_BIN ]]; then
          ALLOW_FAIL=1 timed "$label under deja" "$TIME_BIN" -f %M -o "$WORK/rss" "$DEJA" record -o "$rec" -- "$@"
          if [[ $LAST_NS != n/a ]]; then
            local kb; kb=$(tail -n 1 "$WORK/rss")
            [[ -z ${RSS_KB[$label]:-} || $kb -gt ${RSS_KB[$label]} ]] && RSS_KB[$label]=$kb
          fi
        else
          ALLOW_FAIL=1 timed "$label under deja" "$DEJA" record -o "$rec" -- "$@"
        fi
        [[ $LAST_NS == n/a ]] && { b=n/a; DEJA_FAILED+=" $label"; break; }
        REC[$label]=$rec ;;
    esac
    b=$(min "$b" "$LAST_NS")
  done
  BEST=$b
}
run_deja() { if (( HAVE_DEJA )); then best deja "$@"; else BEST=n/a; fi; }

# --- 5. threads (defined here; run after section 4, or alone with BENCH_ONLY=threads) ----
# trun OUT CMD...: one run of CMD under `timeout TH_TIMEOUT`, stdout to OUT, stderr to the log;
# sets LAST_NS and LAST_RC.
trun() {
  local out=$1 t0; shift
  LAST_RC=0
  t0=$(now)
  timeout -k 10 "$TH_TIMEOUT" "$@" <"/dev/null" >"$out" 2>"$WORK/log" || LAST_RC=$?
  LAST_NS=$(( $(now) - t0 ))
}
# why LABEL WHAT: why the last trun failed (hung, divergence, deja failed, a status) in WHY, logged.
why() {
  local first
  first=$(grep -m 1 '^deja:' "$WORK/log" | cut -c 1-240 || true)
  if (( LAST_NS >= TH_TIMEOUT * 1000000000 )); then WHY="$2 hung: killed after $TH_TIMEOUT s"
  elif (( LAST_RC == 124 )); then WHY="$2: ${first#deja: }"
  elif (( LAST_RC == 125 )); then WHY="$2: deja failed: ${first#deja: }"
  else WHY="$2 exited $LAST_RC"; fi
  say "$1: $WHY"
  tail -n 15 "$WORK/log" | sed 's/^/  | /' >&2
}
# threads_case LABEL TITLE CMD...: best of RUNS walls of CMD natively, under deja record and under
# deja replay of the last recording (TH_NATIVE, TH_RECORD, TH_REPLAY: ns or n/a) and what became of
# the replay (TH_STATUS: ok, or why not). The program must exit 0 natively.
declare -A TH_TITLE TH_NATIVE TH_RECORD TH_REPLAY TH_STATUS
TH_LABELS=()
threads_case() {
  local label=$1 rec=$WORK/rec-$1 i b; shift
  TH_TITLE[$label]=$1; shift
  TH_LABELS+=("$label")
  TH_NATIVE[$label]=n/a; TH_RECORD[$label]=n/a; TH_REPLAY[$label]=n/a; TH_STATUS[$label]=ok
  b=n/a
  for (( i = 1; i <= RUNS; i++ )); do
    trun "$WORK/$label.native" "$@"
    (( LAST_RC == 0 )) || { why "$label" "native run $i"; TH_STATUS[$label]=$WHY; return 0; }
    b=$(min "$b" "$LAST_NS")
  done
  TH_NATIVE[$label]=$b
  (( HAVE_DEJA )) || { TH_STATUS[$label]="no deja"; return 0; }
  b=n/a
  for (( i = 1; i <= RUNS; i++ )); do
    rm -rf "$rec"
    trun "$WORK/$label.record" "$DEJA" record -q -o "$rec" -- "$@"
    (( LAST_RC == 0 )) || { why "$label" "record $i"; TH_STATUS[$label]=$WHY; DEJA_FAILED+=" $label"; return 0; }
    b=$(min "$b" "$LAST_NS")
  done
  TH_RECORD[$label]=$b
  b=n/a
  for (( i = 1; i <= RUNS; i++ )); do
    trun "$WORK/$label.replay" "$DEJA" replay "$rec"
    (( LAST_RC == 0 )) || { why "$label" "replay $i"; TH_STATUS[$label]=$WHY; REPLAY_FAILED+=" $label"; return 0; }
    if ! cmp -s "$WORK/$label.record" "$WORK/$label.replay"; then
      TH_STATUS[$label]="replay $i printed other output than the recorded run"
      say "$label: ${TH_STATUS[$label]}"; REPLAY_FAILED+=" $label"; return 0
    fi
    b=$(min "$b" "$LAST_NS")
  done
  TH_REPLAY[$label]=$b
}
threads_bench() {
  local data=$WORK/xz-input.txt
  if command -v xz >/dev/null; then
    say "threads: generating $XZ_MB MB of text for xz"
    awk -v mb="$XZ_MB" 'BEGIN { srand(1); split("alpha beta gamma delta epsilon zeta eta theta", w, " ")
      for (n = 0; bytes < mb * 1048576; n++) { line = n " " int(rand() * 1e9)
        for (k = 0; k < 8; k++) line = line " " w[1 + int(rand() * 8)]
        print line; bytes += length(line) + 1 } }' > "$data"
    say "threads: xz -T2, $XZ_MB MB: native, deja record, deja replay"
    threads_case xz "xz -T2 --block-size=4MiB, $XZ_MB MB of text" xz -T2 --block-size=4MiB -c "$data"
  else
    say "WARNING: xz is missing: no xz figures"
  fi
  if [[ -f $JCLASSES/ThreadPool.class && -x $JAVA_BIN ]]; then
    say "threads: ThreadPool ($JAVA_BIN): native, deja record, deja replay"
    threads_case pool "ThreadPool (JVM, 4 threads, 100 tasks)" "$JAVA_BIN" -cp "$JCLASSES" ThreadPool
  else
    say "WARNING: $JCLASSES/ThreadPool.class or $JAVA_BIN is missing: no ThreadPool figures"
  fi
  say "threads: racy counter, N=$RACY_N: native, deja record, deja replay"
  threads_case racy "racy counter, 2 x $RACY_N increments" "$RACY" "$RACY_N"
}
threads_report() {
  local label
  echo "| threads (best of $RUNS) | native ms | record ms | replay ms | record / native | replay / native | replay / record | replay |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  for label in "${TH_LABELS[@]}"; do
    echo "| ${TH_TITLE[$label]} | $(ms "${TH_NATIVE[$label]}") | $(ms "${TH_RECORD[$label]}") | $(ms "${TH_REPLAY[$label]}") |" \
         "$(ratio "${TH_RECORD[$label]}" "${TH_NATIVE[$label]}") | $(ratio "${TH_REPLAY[$label]}" "${TH_NATIVE[$label]}") |" \
         "$(ratio "${TH_REPLAY[$label]}" "${TH_RECORD[$label]}") | ${TH_STATUS[$label]//|/\\|} |"
  done
}

# results REPORT...: the markdown block (a header, then what each REPORT function prints), also in $WORK/report.md.
DEJA_FAILED=''
REPLAY_FAILED=''
results() {
  local r
  {
    echo
    echo "## Benchmark results"
    echo
    echo "Measured by \`bench/run.sh\`${ONLY:+ (BENCH_ONLY=$ONLY)} on $(date -u +%Y-%m-%d): $(uname -sr), $(nproc) cores" \
         "($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown cpu))," \
         "$(case $ONLY in start) echo "median of $START_RUNS runs each" ;; threads) echo "best of $RUNS runs each" ;;
            *) echo "best of $RUNS runs each (the start figures: median of $START_RUNS)" ;; esac)," \
         "deja at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)."
    (( HAVE_DEJA )) || echo "**$DEJA was not found: the deja figures are n/a.**"
    [[ -z $DEJA_FAILED ]] || echo "**deja record failed for:$DEJA_FAILED (see the log above): those figures are n/a.**"
    [[ -z $REPLAY_FAILED ]] || echo "**deja replay failed for:$REPLAY_FAILED (see the log above): those figures are n/a.**"
    echo "Ratios are measured in the same run; the machine is shared, so read the ratios, not the absolute times."
    [[ -n $ONLY ]] || echo "\`tar cf /dev/null\` walks the tree without reading file contents (GNU tar skips the reads when the archive is /dev/null)."
    for r in "$@"; do
      echo
      "$r"
    done
  } | tee "$WORK/report.md"
  echo
  say "done (the block above, from '## Benchmark results', can be pasted into docs/performance.md)"
}

# --- 6. start (defined here; run last, or alone with BENCH_ONLY=start) ------------------
# smed LABEL CMD...: the median wall and the median CPU time (user + sys, ms) of START_RUNS runs of
# CMD, in START_WALL[LABEL] and START_CPU[LABEL] (n/a when a run fails).
declare -A START_WALL START_CPU START_TITLE
START_LABELS=()
smed() {
  local label=$1 i walls=() cpus=() t0 t1 rc; shift
  START_LABELS+=("$label")
  START_WALL[$label]=n/a; START_CPU[$label]=n/a
  for (( i = 0; i < START_RUNS; i++ )); do
    rc=0
    t0=$(now)
    if [[ -n $TIME_BIN ]]; then
      "$TIME_BIN" -f '%U %S' -o "$WORK/cpu" "$@" >"$WORK/log" 2>&1 || rc=$?
    else
      "$@" >"$WORK/log" 2>&1 || rc=$?
    fi
    t1=$(now)
    if (( rc != 0 )); then
      say "$label failed (exit $rc): $*"; tail -n 5 "$WORK/log" | sed 's/^/  | /' >&2; return 0
    fi
    walls+=($(( t1 - t0 )))
    [[ -n $TIME_BIN ]] && cpus+=("$(awk '{ printf "%d", ($1 + $2) * 1e9 }' < <(tail -n 1 "$WORK/cpu"))")
  done
  START_WALL[$label]=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  (( ${#cpus[@]} )) && START_CPU[$label]=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  return 0
}
start_bench() {
  local home=$WORK/start-home rec
  START_LOAD=$(cut -d ' ' -f 1-3 /proc/loadavg)
  say "start: java -version, deja --help, ls, info, record /bin/true, replay (median of $START_RUNS, load $START_LOAD)"
  smed java "$JAVA_BIN" -version; START_TITLE[java]='`java -version` (the JVM alone)'
  (( HAVE_DEJA )) || return 0
  mkdir -p "$home"
  DEJA_HOME=$home "$DEJA" record -q -- /bin/true >/dev/null 2>&1 || say "WARNING: deja record /bin/true failed: no ls/info/replay figures"
  rec=$home/latest
  smed help "$DEJA" --help; START_TITLE[help]='`deja --help`'
  smed ls env DEJA_HOME="$home" "$DEJA" ls; START_TITLE[ls]='`deja ls` (one recording)'
  smed info "$DEJA" info "$rec"; START_TITLE[info]='`deja info REC`'
  smed record bash -c 'rm -rf "$1" && "$2" record -q -o "$1" -- /bin/true' _ "$WORK/start-rec" "$DEJA"
  START_TITLE[record]='`deja record /bin/true`'
  smed replay "$DEJA" replay -q "$rec"; START_TITLE[replay]='`deja replay` of it'
  START_LOAD="$START_LOAD -> $(cut -d ' ' -f 1-3 /proc/loadavg)"
}
start_report() {
  local label target
  echo "| start (median of $START_RUNS; load average $START_LOAD) | wall ms | CPU ms (user + sys) | target |"
  echo "|---|---:|---:|---|"
  for label in "${START_LABELS[@]}"; do
    case $label in help|ls|info) target='< 300 ms' ;; record|replay) target='< 600 ms' ;; *) target='' ;; esac
    echo "| ${START_TITLE[$label]} | $(ms "${START_WALL[$label]}") | $(ms "${START_CPU[$label]}") | $target |"
  done
}

# --- 7. store (defined here; run after start, or alone with BENCH_ONLY=store) -------------
# Three JVM recordings into one fresh home: the disk each adds and its wall.
STORE_WALL=(); STORE_KB=()
store_bench() {
  local home=$WORK/store-home i t0 t1 before after
  (( HAVE_DEJA )) || return 0
  say "store: java -version recorded 3 times into one home (the first copies, the others link)"
  rm -rf "$home"; mkdir -p "$home"
  for i in 1 2 3; do
    before=$(du -sk "$home" | cut -f 1)
    t0=$(now)
    DEJA_HOME=$home "$DEJA" record -q -- "$JAVA_BIN" -version >/dev/null 2>&1 || { say "WARNING: recording java -version failed"; return 0; }
    t1=$(now)
    after=$(du -sk "$home" | cut -f 1)
    STORE_WALL+=($(( t1 - t0 ))); STORE_KB+=($(( after - before )))
  done
  STORE_SHARED=$(du -sk "$home/blobs" | cut -f 1)
}
store_report() {
  (( ${#STORE_WALL[@]} )) || return 0
  echo "| \`deja record -- java -version\` into one home | wall ms | disk added KiB | target |"
  echo "|---|---:|---:|---|"
  echo "| 1st (copies the JDK's files into the store) | $(ms "${STORE_WALL[0]}") | ${STORE_KB[0]} | |"
  echo "| 2nd (hard links) | $(ms "${STORE_WALL[1]}") | ${STORE_KB[1]} | < 5120 KiB |"
  echo "| 3rd (hard links) | $(ms "${STORE_WALL[2]}") | ${STORE_KB[2]} | < 5120 KiB |"
  echo
  echo "The shared store holds ${STORE_SHARED} KiB."
}

if [[ $ONLY == store ]]; then
  store_bench
  results store_report
  exit 0
fi
if [[ $ONLY == threads ]]; then
  threads_bench
  results threads_report
  exit 0
fi
if [[ $ONLY == start ]]; then
  start_bench
  results start_report
  exit 0
fi

# --- 1. the getppid loop against the floor --------------------------------------
say "floor: native, ptrace-seccomp, ptrace-syscall (FLOOR_N=$FLOOR_N, best of $RUNS)"
declare -A FL
for mech in native ptrace-seccomp ptrace-syscall; do
  FL[$mech]=n/a
  for (( i = 0; i < RUNS; i++ )); do
    v=$("$FLOOR" "$mech" | awk -v m="$mech" '$1 == m { print $2 }')
    [[ -n $v ]] || die "floor printed no figure for $mech"
    FL[$mech]=$(min "${FL[$mech]}" "$v")
  done
done

say "getppid loop, N=$N: native, strace, deja"
best native getppid "$LOOP" "$N"; LOOP_NATIVE=$BEST
best strace getppid "$LOOP" "$N"; LOOP_STRACE=$BEST
run_deja getppid "$LOOP" "$N"; LOOP_DEJA=$BEST
LOOP_DEJA0=n/a
if [[ $LOOP_DEJA != n/a ]]; then
  run_deja getppid0 "$LOOP" 0; LOOP_DEJA0=$BEST   # deja's fixed cost: JVM start, exec, recording setup
fi
percall() { [[ $1 == n/a ]] && { printf 'n/a'; return; }; calc "($1 - $2) / $N"; }
NATIVE_CALL=$(calc "$LOOP_NATIVE / $N")
STRACE_CALL=$(percall "$LOOP_STRACE" "$LOOP_NATIVE")
DEJA_CALL=$(percall "$LOOP_DEJA" "$LOOP_NATIVE")
DEJA_CALL_NET=n/a
[[ $LOOP_DEJA0 != n/a ]] && DEJA_CALL_NET=$(calc "($LOOP_DEJA - $LOOP_DEJA0) / $N")

# --- 2. make -j2 of a small C project, tar of /usr/include -------------------------
PROJ=$WORK/cproject
mkdir -p "$PROJ"
for (( i = 0; i < 40; i++ )); do
  cat > "$PROJ/f$i.c" <<C
#include <stdio.h>
#include <string.h>
struct item$i { int key; double weight; char name[32]; };
static int cmp$i(const void *a, const void *b) { return ((const struct item$i *)a)->key - ((const struct item$i *)b)->key; }
int f$i(int n) {
  struct item$i items[64]; int sum = 0;
  for (int k = 0; k < 64; k++) { items[k].key = (k * $((i + 7))) % 61; items[k].weight = k / 3.0; snprintf(items[k].name, sizeof items[k].name, "item-%d-%d", $i, k); }
  for (int k = 0; k < n && k < 64; k++) sum += items[k].key + (int)strlen(items[k].name) + (int)items[k].weight;
  (void)cmp$i; return sum;
}
C
done
{ echo '#include <stdio.h>'; for (( i = 0; i < 40; i++ )); do echo "int f$i(int);"; done
  echo 'int main(void) { long s = 0;'; for (( i = 0; i < 40; i++ )); do echo "  s += f$i(10);"; done
  echo '  printf("%ld\n", s); return 0; }'; } > "$PROJ/main.c"
printf 'CFLAGS = -O2 -Wall\nOBJS = main.o %s\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\nclean:\n\trm -f prog *.o\n.PHONY: clean\n' \
  "$(for (( i = 0; i < 40; i++ )); do printf 'f%d.o ' "$i"; done)" > "$PROJ/Makefile"

say "make -j2 of a 41-file C project: native, strace, deja"
PRE="make -s -C '$PROJ' clean >/dev/null"
best native make make -s -C "$PROJ" -j2; MAKE_NATIVE=$BEST
best strace make make -s -C "$PROJ" -j2; MAKE_STRACE=$BEST
run_deja make make -s -C "$PROJ" -j2; MAKE_DEJA=$BEST
PRE=''

say "tar cf /dev/null /usr/include: native, strace, deja"
TAR=(tar cf /dev/null -C / usr/include)
best native tar "${TAR[@]}"; TAR_NATIVE=$BEST
best strace tar "${TAR[@]}"; TAR_STRACE=$BEST
run_deja tar "${TAR[@]}"; TAR_DEJA=$BEST

say "sleep 2: native, deja record"
best native sleep sleep 2; SLEEP_NATIVE=$BEST
run_deja sleep sleep 2; SLEEP_DEJA=$BEST

# --- 3. replay -----------------------------------------------------------------
# replay LABEL: best of RUNS walls of `deja replay -q` of the kept recording of LABEL, in BEST.
# A replay that fails (a divergence: 124) is reported, and its figure is n/a.
replay() {
  local label=$1 rec=${REC[$1]:-} i b=n/a
  if (( ! HAVE_DEJA )) || [[ -z $rec || ! -d $rec ]]; then BEST=n/a; return; fi
  for (( i = 0; i < RUNS; i++ )); do
    ALLOW_FAIL=1 timed "replay of $label" "$DEJA" replay -q "$rec"
    [[ $LAST_NS == n/a ]] && { b=n/a; REPLAY_FAILED+=" $label"; break; }
    b=$(min "$b" "$LAST_NS")
  done
  BEST=$b
}
say "replay: getppid loop (N=$N and 0), make -j2, sleep 2"
replay getppid; LOOP_REPLAY=$BEST
replay getppid0; LOOP_REPLAY0=$BEST
replay make; MAKE_REPLAY=$BEST
replay sleep; SLEEP_REPLAY=$BEST
REPLAY_CALL=n/a
[[ $LOOP_REPLAY != n/a && $LOOP_REPLAY0 != n/a ]] && REPLAY_CALL=$(calc "($LOOP_REPLAY - $LOOP_REPLAY0) / $N")

# --- 4. recording size and RSS ------------------------------------------------
declare -A SIZE EVENTS
for w in getppid make tar; do
  SIZE[$w]=n/a; EVENTS[$w]=n/a
  rec=${REC[$w]:-}
  [[ -n $rec && -d $rec ]] || continue
  info=$("$DEJA" info "$rec" 2>/dev/null) || true
  # The bytes deja reports as used: the journal file is sparse (80 MiB apparent), du -sb would count it all.
  size=$(sed -nE 's/^size:.*\(([0-9]+) bytes\).*/\1/p' <<<"$info" | head -n 1)
  SIZE[$w]=${size:-$(du -s --block-size=1 "$rec" | awk '{print $1}')}
  ev=$(sed -nE 's/^[[:space:]]*events:[[:space:]]*([0-9]+).*/\1/p' <<<"$info" | head -n 1)
  [[ -n $ev ]] && EVENTS[$w]=$ev || say "WARNING: no 'events: N' line from ./deja info $rec"
done
per_million() { # bytes events -> MB per million events
  [[ $1 == n/a || $2 == n/a || $2 == 0 ]] && { printf 'n/a'; return; }
  calc "$1 / $2 * 1000000 / 1048576"
}
rss_mb() { [[ -n ${RSS_KB[$1]:-} ]] && calc "${RSS_KB[$1]} / 1024" || printf 'n/a'; }

# --- 4b. deja report: the page of the getppid and tar recordings ---------------------
# Best of RUNS walls of `deja report REC -o PAGE` (target: a 100 000-event recording in under 5 s,
# a page under 10 MB), and the page's size.
declare -A PAGE_NS PAGE_BYTES
for w in getppid tar; do
  PAGE_NS[$w]=n/a; PAGE_BYTES[$w]=n/a
  rec=${REC[$w]:-}
  [[ -n $rec && -d $rec ]] || continue
  b=n/a
  for (( i = 0; i < RUNS; i++ )); do
    rm -f "$WORK/page-$w.html"
    ALLOW_FAIL=1 timed "report of $w" "$DEJA" report -q "$rec" -o "$WORK/page-$w.html"
    [[ $LAST_NS == n/a ]] && { b=n/a; break; }
    b=$(min "$b" "$LAST_NS")
  done
  PAGE_NS[$w]=$b
  [[ -f $WORK/page-$w.html ]] && PAGE_BYTES[$w]=$(stat -c %s "$WORK/page-$w.html")
done

# --- 5. threads (the section is defined above) ----------------------------------
threads_bench

# --- 6. start (the section is defined above) ------------------------------------
start_bench

# --- 7. store (the section is defined above) ------------------------------------
store_bench

# --- report -------------------------------------------------------------------
report() {
  echo "| getppid loop (N=$N) | ns per call | deja / it |"
  echo "|---|---:|---:|"
  echo "| native (loop) | $(fmt "$NATIVE_CALL" '%.0f') | $(ratio "$DEJA_CALL" "$NATIVE_CALL") |"
  echo "| floor: native | $(fmt "${FL[native]}" '%.0f') | |"
  echo "| floor: ptrace-seccomp (1 stop) | $(fmt "${FL[ptrace-seccomp]}" '%.0f') | $(ratio "$DEJA_CALL" "${FL[ptrace-seccomp]}") |"
  echo "| floor: ptrace-syscall (2 stops) | $(fmt "${FL[ptrace-syscall]}" '%.0f') | $(ratio "$DEJA_CALL" "${FL[ptrace-syscall]}") |"
  echo "| strace -f -o /dev/null | $(fmt "$STRACE_CALL" '%.0f') | $(ratio "$DEJA_CALL" "$STRACE_CALL") |"
  echo "| **deja record** ((wall - native wall) / N) | $(fmt "$DEJA_CALL" '%.0f') | 1.0 |"
  echo "| deja record, fixed cost removed ((wall - wall of N=0) / N) | $(fmt "$DEJA_CALL_NET" '%.0f') | |"
  echo
  echo "deja's fixed cost (recording \`getppid_loop 0\`): $(ms "$LOOP_DEJA0") ms"
  echo
  echo "| workload | native ms | strace ms | deja ms | strace / native | deja / native | deja / strace |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  echo "| getppid loop N=$N | $(ms "$LOOP_NATIVE") | $(ms "$LOOP_STRACE") | $(ms "$LOOP_DEJA") | $(ratio "$LOOP_STRACE" "$LOOP_NATIVE") | $(ratio "$LOOP_DEJA" "$LOOP_NATIVE") | $(ratio "$LOOP_DEJA" "$LOOP_STRACE") |"
  echo "| make -j2, 41 C files | $(ms "$MAKE_NATIVE") | $(ms "$MAKE_STRACE") | $(ms "$MAKE_DEJA") | $(ratio "$MAKE_STRACE" "$MAKE_NATIVE") | $(ratio "$MAKE_DEJA" "$MAKE_NATIVE") | $(ratio "$MAKE_DEJA" "$MAKE_STRACE") |"
  echo "| tar cf /dev/null /usr/include | $(ms "$TAR_NATIVE") | $(ms "$TAR_STRACE") | $(ms "$TAR_DEJA") | $(ratio "$TAR_STRACE" "$TAR_NATIVE") | $(ratio "$TAR_DEJA" "$TAR_NATIVE") | $(ratio "$TAR_DEJA" "$TAR_STRACE") |"
  echo
  echo "| recording of | events | bytes | MB per million events | deja max RSS MB |"
  echo "|---|---:|---:|---:|---:|"
  for w in getppid make tar; do
    echo "| $w | ${EVENTS[$w]} | ${SIZE[$w]} | $(fmt "$(per_million "${SIZE[$w]}" "${EVENTS[$w]}")" '%.1f') | $(fmt "$(rss_mb "$w")" '%.0f') |"
  done
  echo
  echo "| \`deja report\` of | events | ms | page bytes | page MB per 100 000 events |"
  echo "|---|---:|---:|---:|---:|"
  for w in getppid tar; do
    local per=n/a
    [[ ${PAGE_BYTES[$w]} != n/a && ${EVENTS[$w]} != n/a && ${EVENTS[$w]} != 0 ]] && per=$(calc "${PAGE_BYTES[$w]} / ${EVENTS[$w]} * 100000 / 1048576")
    echo "| $w | ${EVENTS[$w]} | $(ms "${PAGE_NS[$w]}") | ${PAGE_BYTES[$w]} | $(fmt "$per" '%.2f') |"
  done
  echo
  echo "| replay (\`deja replay -q\`) | native ms | record ms | replay ms | replay / native | replay / record |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| getppid loop N=$N | $(ms "$LOOP_NATIVE") | $(ms "$LOOP_DEJA") | $(ms "$LOOP_REPLAY") | $(ratio "$LOOP_REPLAY" "$LOOP_NATIVE") | $(ratio "$LOOP_REPLAY" "$LOOP_DEJA") |"
  echo "| getppid loop N=0 (deja's fixed cost) | | $(ms "$LOOP_DEJA0") | $(ms "$LOOP_REPLAY0") | | $(ratio "$LOOP_REPLAY0" "$LOOP_DEJA0") |"
  echo "| make -j2, 41 C files | $(ms "$MAKE_NATIVE") | $(ms "$MAKE_DEJA") | $(ms "$MAKE_REPLAY") | $(ratio "$MAKE_REPLAY" "$MAKE_NATIVE") | $(ratio "$MAKE_REPLAY" "$MAKE_DEJA") |"
  echo "| sleep 2 (target: replay / native <= 0.5) | $(ms "$SLEEP_NATIVE") | $(ms "$SLEEP_DEJA") | $(ms "$SLEEP_REPLAY") | $(ratio2 "$SLEEP_REPLAY" "$SLEEP_NATIVE") | $(ratio "$SLEEP_REPLAY" "$SLEEP_DEJA") |"
  echo
  echo "Per replayed syscall ((replay wall - replay wall of N=0) / N): $(us "$REPLAY_CALL") µs," \
       "$(ratio "$REPLAY_CALL" "${FL[ptrace-syscall]}")x the floor's ptrace-syscall ($(us "${FL[ptrace-syscall]}") µs);" \
       "recording: $(us "$DEJA_CALL_NET") µs."
}

results report threads_report start_report store_report
