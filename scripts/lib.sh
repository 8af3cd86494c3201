# Shell helpers shared by scripts/services and scripts/dev. Sourced, never run.
#
# The sourcing script sets LOG_TAG (e.g. "services") and STATE (its state directory)
# before calling anything here. Every helper is a plain function of its arguments and of
# those two variables; nothing here changes the shell's options or directory.

# log MESSAGE...: one line on stderr, tagged with the script's name.
log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
# die MESSAGE...: log it as an error and exit 1.
die() { log "error: $*"; exit 1; }

# abspath PATH: PATH made absolute against the current directory (not resolved).
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

# sq TEXT: TEXT single-quoted for the shell.
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

pid_file() { printf '%s\n' "$STATE/pids/$1.pid"; }
log_file() { printf '%s\n' "$STATE/logs/$1.log"; }

# is_alive PID: true if the process exists and is not a zombie.
is_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [[ $state != Z ]]
}

# pid_in_file NAME: prints the pid of $STATE/pids/NAME.pid if that process is alive. The
# caller still checks that the process is ours (its command line), since pids recycle.
pid_in_file() {
    local f pid
    f=$(pid_file "$1")
    [[ -s $f ]] || return 1
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && is_alive "$pid" || return 1
    printf '%s\n' "$pid"
}

# cmdline_of PID: the process's arguments, space-separated, with a leading space.
cmdline_of() { printf ' %s' "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)"; }

# port_in_use PORT: true if something accepts connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# http_ok URL [TIMEOUT_SECS]: true if URL answers 200 within the timeout (default 3 s).
# Uses curl, else the venv's (or the system's) Python.
http_ok() {
    local timeout=${2:-3}
    if command -v curl >/dev/null 2>&1; then
        [[ $(curl -sS -o /dev/null -w '%{http_code}' --max-time "$timeout" "$1" 2>/dev/null) == 200 ]]
    else
        local py=python3
        [[ -n ${PY:-} && -x $PY ]] && py=$PY
        "$py" -c 'import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).status == 200 else 1)
except Exception:
    sys.exit(1)' "$1" "$timeout"
    fi
}

# show_log NAME [LINES]: the last LINES (default 40) of NAME's log, indented, on stderr.
show_log() {
    local f lines=${2:-40}
    f=$(log_file "$1")
    if [[ -s $f ]]; then
        log "last $lines lines of $f:"
        tail -n "$lines" "$f" | sed 's/^/    /' >&2
    else
        log "($f is empty or missing)"
    fi
}

# stop_pid NAME PID GRACE_SECS: TERM, wait up to GRACE_SECS, then KILL and wait 5 s more.
stop_pid() {
    local name=$1 pid=$2 grace=$3 i
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
        is_alive "$pid" || break
        sleep 0.2
    done
    if is_alive "$pid"; then
        log "$name: still running after $grace s; sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 25; i++)); do
            is_alive "$pid" || break
            sleep 0.2
        done
    fi
    if is_alive "$pid"; then log "warning: $name (pid $pid) is still alive"; fi
}
