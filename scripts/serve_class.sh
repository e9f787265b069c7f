#!/usr/bin/env bash
# Serve the app to a class: N Streamlit processes on loopback ports behind HAProxy, with sticky sessions.
#
#   bash scripts/serve_class.sh --replicas 2 --port 8080
#
# A Streamlit session lives in one process, over one websocket, and its uploads and media files are served by
# that same process: so HAProxy pins each browser to a replica with a cookie (LE_REPLICA), passes websockets
# through, and sends a new browser to the replica with the fewest connections. It checks each replica's
# /_stcore/health every 2 s: a dead one gets no new sessions, and a browser pinned to it is sent to a live one
# (where Streamlit's reconnect starts a fresh session: that student's picks and sliders are lost).
# This script restarts a replica that dies, runs in the foreground, prints the address, and on Ctrl-C / SIGTERM
# stops every process it started. All replicas share the models folder, so a model saved in one appears in all,
# and the class store (a lecturer's ?class= room: the view students follow, their drawings and poll guesses):
# by default an SQLite file in the models folder (models/_class/), or the Redis that CLASS_STORE names
# (CLASS_STORE=redis://host:6379/0, for replicas on several machines; docs/deploy.md, "A class session"). The
# store is opened once before any replica starts: a CLASS_STORE that cannot be opened stops here, in one line.
#
# Options:
#   --replicas N    app processes (default 2; 0.75-0.9 GiB each with a class, and one training job each at most)
#   --port P        the port the class connects to (default 8080)
#   --bind ADDR     the address HAProxy listens on (default 0.0.0.0: the local network; 127.0.0.1 for this machine)
#   --python PY     the Python with the app's requirements (default: $VAE_PYTHON, else .venv/bin/python, which the
#                   README's first command builds; built here the same way when missing)
# Environment: what the app reads (docs/deploy.md: LATENT_EXPLORER_MODELS_DIR, CLASS_STORE, ...), passed to every
# replica; SERVE_CLASS_RUN_DIR keeps the generated haproxy.cfg and the logs in that folder instead of a temporary
# one; SERVE_CLASS_ENTRY, a Python script run in place of `-m dashboard.replica` (bench/timed_server.py, which
# times every script run).
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=2 port=8080 bind=0.0.0.0 python="${VAE_PYTHON:-}"
die() { echo "serve_class: $*" >&2; exit 2; }
value() { [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) value "$1" $#; replicas="$2"; shift 2 ;;
    --port) value "$1" $#; port="$2"; shift 2 ;;
    --bind) value "$1" $#; bind="$2"; shift 2 ;;
    --python) value "$1" $#; python="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ "$replicas" =~ ^[0-9]+$ ]] && [ "$replicas" -ge 1 ] && [ "$replicas" -le 32 ] \
  || die "--replicas must be a whole number from 1 to 32, got '$replicas'"
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] \
  || die "--port must be a whole number from 1 to 65535, got '$port'"
[[ "$bind" =~ ^[0-9A-Za-z.:_-]+$ ]] || die "--bind must be an address, got '$bind'"

# HAProxy from Debian, installed the way .ci/run installs Chromium.
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "serve_class: installing haproxy"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null \
    || die "could not install haproxy (apt-get install haproxy)"
fi
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)

if [ -z "$python" ]; then
  python=.venv/bin/python
  if [ ! -x "$python" ]; then
    echo "serve_class: building .venv (the README's install; PyTorch is about 5 GB)"
    python3 -m venv .venv && .venv/bin/pip install --quiet -r requirements.txt || die "could not build .venv"
  fi
fi
"$python" -c "import streamlit, torch" 2>/dev/null || die "$python cannot import streamlit and torch (see README)"
"$python" -m dashboard.class_store || die "the class store cannot be opened (docs/deploy.md, \"A class session\")"

# The class's port must be free before anything starts: one clear line instead of a half-started class.
"$python" scripts/ports.py --check "$bind" "$port" || exit 1
# Not the class's port: free now, the kernel may hand it out again until HAProxy binds it after the replicas.
read -r -a backend_ports <<<"$("$python" scripts/ports.py --pick "$replicas" "$port")"

run_dir="${SERVE_CLASS_RUN_DIR:-}"
if [ -z "$run_dir" ]; then run_dir=$(mktemp -d -t serve-class.XXXXXX); own_run_dir=1; else mkdir -p "$run_dir"; own_run_dir=0; fi
# Streamlit runs every script run on a thread of its own, and glibc gives threads up to 8 malloc arenas per core,
# each keeping freed memory: two arenas hold a replica's heap near what it uses (docs/benchmarks.md, "Memory of a
# replica"). MALLOC_ARENA_MAX=0 in the environment is glibc's default.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# One cookie secret for every replica: a browser moved to another replica keeps a valid XSRF cookie for uploads.
STREAMLIT_SERVER_COOKIE_SECRET=$("$python" -c "import secrets; print(secrets.token_hex(32))")
export STREAMLIT_SERVER_COOKIE_SECRET

pids=()
stopping=0
stop() {
  [ "$stopping" -eq 1 ] && return
  stopping=1
  echo "serve_class: stopping ${#pids[@]} processes"
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  [ "$own_run_dir" -eq 1 ] && rm -rf "$run_dir"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# Each replica runs under a small supervisor that starts it again when it dies (its own process group, so
# stop() ends the supervisor and its Streamlit together). A replica is `streamlit run` after rendering the
# landing page once (dashboard/replica.py): it answers the health check, and so takes students, only when warm.
# Nothing outlives this script, even one killed with SIGKILL (no trap runs then): the supervisors and HAProxy get
# SIGTERM when it dies (the parent-death signal), each replica when its supervisor dies, and a supervisor that
# finds this script gone restarts nothing.
script_pid=$$
orphan_proof=(setpriv --pdeathsig TERM)
command -v setpriv >/dev/null 2>&1 || orphan_proof=()
for i in $(seq "$replicas"); do
  p=${backend_ports[$((i - 1))]}
  "${orphan_proof[@]}" setsid bash -c '
    trap "exit 0" TERM
    if [ -n "${SERVE_CLASS_ENTRY:-}" ]; then app=("$0" "$SERVE_CLASS_ENTRY"); else app=("$0" -m dashboard.replica); fi
    guard=(setpriv --pdeathsig TERM); command -v setpriv >/dev/null 2>&1 || guard=()
    while kill -0 "$3" 2>/dev/null; do
      "${guard[@]}" "${app[@]}" run dashboard/app.py --server.address 127.0.0.1 --server.port "$1" --server.headless true &
      child=$!
      trap "kill -TERM $child 2>/dev/null; wait $child; exit 0" TERM
      wait "$child" && rc=0 || rc=$?
      trap "exit 0" TERM
      echo "serve_class: replica r$2 (port $1) exited with status $rc; restarting in 2 s" >&2
      sleep 2
    done' "$python" "$p" "$i" "$script_pid" >"$run_dir/replica-r$i.log" 2>&1 &
  pids+=($!)
  echo "serve_class: replica r$i on 127.0.0.1:$p (log $run_dir/replica-r$i.log)"
done

servers=""
for i in $(seq "$replicas"); do
  servers+="    server r$i 127.0.0.1:${backend_ports[$((i - 1))]} check cookie r$i"$'\n'
done
cat >"$run_dir/haproxy.cfg" <<EOF
# Generated by scripts/serve_class.sh: $replicas Streamlit replicas behind one address.
global
    maxconn 8192

defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 24h          # a page's websocket stays open for the whole lecture
    timeout http-request 30s
    option redispatch 1         # a browser pinned to a dead replica goes to a live one, at its first retry
    retries 3
    retry-on conn-failure empty-response junk-response   # incl. a kept-alive connection to a replica just killed

frontend class
    bind $bind:$port
    default_backend replicas

backend replicas
    balance leastconn           # a new browser goes to the replica with the fewest open connections
    cookie LE_REPLICA insert indirect nocache httponly
    option httpchk GET /_stcore/health
    http-check expect status 200
    default-server inter 2s fall 2 rise 2
    http-response set-header X-Replica %s
$servers
EOF
"$haproxy_bin" -c -q -f "$run_dir/haproxy.cfg" || die "the generated $run_dir/haproxy.cfg is invalid"

# HAProxy starts once every replica answers its health check (a replica imports PyTorch: seconds), so that it
# takes them all as up from its first check; then the class is ready when the proxy reaches each of them.
"$python" scripts/ports.py --wait-healthy 300 "${backend_ports[@]}" || { stop; die "the replicas did not start (see $run_dir)"; }
"${orphan_proof[@]}" setsid "$haproxy_bin" -db -f "$run_dir/haproxy.cfg" >"$run_dir/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")
"$python" scripts/ports.py --wait-proxy 60 "$bind" "$port" "$replicas" \
  || { cat "$run_dir/haproxy.log" >&2; stop; die "haproxy did not start (see above)"; }
shown=$bind; [ "$bind" = 0.0.0.0 ] && shown=$(hostname -I 2>/dev/null | awk '{print $1}'); shown=${shown:-localhost}
[[ "$shown" == *:* ]] && shown="[$shown]"  # an IPv6 address in a URL
echo "serve_class: serving the class at http://$shown:$port/ ($replicas replicas; Ctrl-C stops them all)"

# Foreground until a signal, or until HAProxy itself ends.
while kill -0 "$haproxy_pid" 2>/dev/null; do sleep 1 & wait $! || true; done
echo "serve_class: haproxy stopped (see $run_dir/haproxy.log)" >&2
exit 1
