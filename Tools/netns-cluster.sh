#!/usr/bin/env bash
# Tools/netns-cluster.sh — one schedule's cluster across Linux network namespaces: every node a
# `takt node` process with its own network stack, address and link, all links joined by a bridge,
# optionally with netem delay, jitter and loss on each node's link. Nothing but frames on the
# (virtual) wire connects the nodes: the network is the distributed engine. Docs/running.md.
#
# Layout — every name carries this run's process id, so two runs never collide:
#   namespace takt-<pid>-hub      bridge takt-br-<pid>, one port n<i> per node
#   namespace takt-<pid>-<node>   eth0 = 10.77.0.<i+1>/24 (the other end of n<i>), lo
# The bridge lives in a namespace of its own rather than the host's: the host's firewall
# (br_netfilter, or a FORWARD policy of DROP as Docker sets) never sees the frames, no name can
# clash with a host interface, and deleting the namespaces deletes every link. Nothing is created in
# the host's namespace. netem, when asked for, delays each node's outgoing frames on its eth0
# (one-way: a frame is delayed once, at its sender).
#
# Exit status: 0 every node ended active with every node of the schedule in its membership — judged
# from the nodes' records at the last round every node ended, because nodes never stop at once;
# 1 otherwise (a node not active, a smaller membership, a node that failed or had to be killed);
# 2 bad usage or an environment that cannot run it (not root, no iproute2, no namespaces, no netem,
# an invalid schedule).

set -euo pipefail

readonly program=${0##*/}
usage() {
    cat <<EOF
usage: $program SCHEDULE [--duration D] [--delay D] [--jitter D] [--loss PCT]
                         [--medium unicast|multicast] [--keep] [--json] [--takt PATH] [-- NODE-ARGS...]

Runs every node of SCHEDULE as 'takt node' in its own network namespace, the namespaces joined by a
bridge, for --duration, then prints each node's summary. Needs root and iproute2 (ip netns, ip link;
tc for netem).

  --duration D       how long every node runs (default 10s; ns, us, ms or s)
  --delay D          netem: delay each node's outgoing frames by D (e.g. 200us)
  --jitter D         netem: vary that delay by ±D (needs --delay)
  --loss PCT         netem: drop PCT percent of each node's outgoing frames (e.g. 1 or 0.5)
  --medium KIND      unicast (default: each node sends to 10.77.0.x:47500 of every other node)
                     or multicast (group 239.255.84.1:47400 on eth0)
  --keep             leave the namespaces, links and output files for inspection (the nodes
                     still stop); the commands that delete them are printed
  --json             print one JSON object: the run's settings, "ok", and every node's summary
  --takt PATH        the takt executable (default \$TAKT, else .build/release/takt of this package)
  -- NODE-ARGS       passed to every 'takt node', e.g. -- --spin 10us --priority 80

Exit: 0 every node active with every node in its membership, 1 otherwise, 2 usage or environment.
EOF
}

fail() { echo "$program: error: $*" >&2; exit 2; }

# --- Arguments ----------------------------------------------------------------------------------
schedule="" duration=10s delay="" jitter="" loss="" medium=unicast keep=0 json=0
takt=${TAKT:-}
node_args=()
while (($#)); do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --duration|--delay|--jitter|--loss|--medium|--takt)
            (($# >= 2)) || fail "$1 needs a value"
            case $1 in
                --duration) duration=$2 ;; --delay) delay=$2 ;; --jitter) jitter=$2 ;;
                --loss) loss=$2 ;; --medium) medium=$2 ;; --takt) takt=$2 ;;
            esac
            shift 2 ;;
        --keep) keep=1; shift ;;
        --json) json=1; shift ;;
        --) shift; node_args=("$@"); break ;;
        -*) fail "unknown option '$1' (see $program --help)" ;;
        *) [[ -z $schedule ]] || fail "one schedule only ('$schedule', then '$1')"; schedule=$1; shift ;;
    esac
done
[[ -n $schedule ]] || { usage >&2; exit 2; }
[[ -r $schedule ]] || fail "cannot read the schedule '$schedule'"

time_pattern='^[0-9]+(\.[0-9]+)?(ns|us|ms|s)$'
[[ $duration =~ $time_pattern ]] || fail "--duration takes a time such as 10s or 500ms, not '$duration'"
[[ -z $delay || $delay =~ $time_pattern ]] || fail "--delay takes a time such as 200us, not '$delay'"
[[ -z $jitter || $jitter =~ $time_pattern ]] || fail "--jitter takes a time such as 50us, not '$jitter'"
[[ -z $jitter || -n $delay ]] || fail "--jitter needs --delay (netem varies a delay)"
[[ -z $loss || $loss =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "--loss takes a percentage such as 1 or 0.5, not '$loss'"
[[ $medium == unicast || $medium == multicast ]] || fail "--medium takes unicast or multicast, not '$medium'"

# Whole seconds (rounded up) in a time such as 250ms, for the watchdog.
seconds_of() {
    local number=${1%%[a-z]*} unit=${1##*[0-9.]}
    awk -v n="$number" -v u="$unit" 'BEGIN {
        s = n / (u == "ns" ? 1e9 : u == "us" ? 1e6 : u == "ms" ? 1e3 : 1); print (s == int(s)) ? s : int(s) + 1 }'
}

# --- Environment --------------------------------------------------------------------------------
# TAKT_NETNS_ASSUME_UID pretends to be another user (tests use it to check this refusal as root).
uid=${TAKT_NETNS_ASSUME_UID:-$EUID}
if [[ $uid != 0 ]]; then
    cat >&2 <<EOF
$program: error: needs root: it creates network namespaces, a bridge and veth links (ip netns,
  ip link) and, with --delay/--jitter/--loss, netem qdiscs (tc). Run it with sudo, e.g.
    sudo TAKT=\$PWD/.build/release/takt $program $schedule
EOF
    exit 2
fi
command -v ip >/dev/null || fail "needs iproute2 for 'ip netns' and 'ip link' (apt-get install iproute2)"
netem=()
[[ -z $delay ]] || netem+=(delay "$delay")
[[ -z $jitter ]] || netem+=("$jitter")
[[ -z $loss ]] || netem+=(loss "$loss%")
((${#netem[@]} == 0)) || command -v tc >/dev/null || fail "--delay/--jitter/--loss need tc from iproute2 (apt-get install iproute2)"

package=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z $takt ]]; then
    takt=$package/.build/release/takt
    [[ -x $takt ]] || fail "no $takt: build it first (as your user, not root): swift build -c release --product takt; or set TAKT=PATH"
fi
[[ -x $takt ]] || fail "the takt executable '$takt' does not exist or is not executable"
takt=$(cd "$(dirname "$takt")" && pwd)/${takt##*/}

# Node names, in node order, from `takt show` (which also validates the schedule): its first line
# counts the nodes ("cluster NAME: N nodes"), each dispatch table starts "  node NAME (K entries):".
shown=$("$takt" show "$schedule" --limit 1 2>&1) || { echo "$shown" >&2; fail "takt show refused '$schedule'"; }
count=$(sed -n '1s/^cluster [^:]*: \([0-9][0-9]*\) nodes.*/\1/p' <<<"$shown")
mapfile -t names < <(sed -n 's/^  node \([A-Za-z_][A-Za-z0-9_]*\) ([0-9]* entries):$/\1/p' <<<"$shown" | awk '!seen[$0]++')
[[ -n $count && ${#names[@]} == "$count" ]] || fail "could not read the $count node names from 'takt show $schedule' (found ${#names[@]})"
((count <= 253)) || fail "10.77.0.0/24 holds at most 253 nodes (the schedule has $count)"

# --- Clean-up: always, on every exit ------------------------------------------------------------
run=$$
hub=takt-$run-hub
while printf '%s\n' "${names[@]}" | grep -qx "${hub#takt-"$run"-}"; do hub=${hub}_; done   # a node named hub
bridge=takt-br-$run
namespaces=()   # created so far, deleted in reverse
pids=()         # node processes started
work=$(mktemp -d "${TMPDIR:-/tmp}/takt-netns-$run.XXXXXX")

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    local pid alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    if ((${#alive[@]})); then
        kill -TERM "${alive[@]}" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "${alive[@]}" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "${alive[@]}" 2>/dev/null
        wait "${alive[@]}" 2>/dev/null
    fi
    if ((keep)); then
        if ((${#namespaces[@]})); then
            echo "kept: namespaces ${namespaces[*]} and $work" >&2
            echo "  delete them with: for n in ${namespaces[*]}; do ip netns del \$n; done; rm -r $work" >&2
        fi
    else
        local i
        # A node namespace takes its veth pair with it (and so the bridge's port); the hub takes
        # the bridge.
        for ((i = ${#namespaces[@]} - 1; i >= 0; i--)); do
            ip netns del "${namespaces[i]}" 2>/dev/null || echo "$program: warning: could not delete namespace ${namespaces[i]}" >&2
        done
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The network --------------------------------------------------------------------------------
new_namespace() {
    ip netns add "$1" || fail "cannot create network namespace $1 (does this kernel or container allow 'ip netns add'?)"
    namespaces+=("$1")
    ip -n "$1" link set lo up
}
new_namespace "$hub"
ip -n "$hub" link add "$bridge" type bridge mcast_snooping 0   # flood multicast: no IGMP querier here
ip -n "$hub" link set "$bridge" up
peers=()
for i in "${!names[@]}"; do
    ns=takt-$run-${names[i]}
    address=10.77.0.$((i + 1))
    new_namespace "$ns"
    ip -n "$hub" link add "n$i" type veth peer name eth0 netns "$ns"
    ip -n "$hub" link set "n$i" master "$bridge" up
    ip -n "$ns" addr add "$address/24" dev eth0
    ip -n "$ns" link set eth0 up
    if [[ $medium == multicast ]]; then
        ip -n "$ns" route add 224.0.0.0/4 dev eth0
    fi
    if ((${#netem[@]})); then
        tc -n "$ns" qdisc add dev eth0 root netem "${netem[@]}" 2>"$work/tc.err" \
            || fail "cannot add netem on eth0 in $ns: $(<"$work/tc.err")
  (this kernel lacks the netem qdisc: CONFIG_NET_SCH_NETEM, module sch_netem — try 'modprobe sch_netem', or run without --delay/--jitter/--loss)"
    fi
    peers+=(--peer "$address:47500")
done

# --- The nodes ----------------------------------------------------------------------------------
if [[ $medium == unicast ]]; then
    medium_args=(--medium unicast "${peers[@]}")
else
    medium_args=(--medium multicast --group 239.255.84.1:47400 --interface eth0)
fi
netem_text=${netem[*]:-none}
echo "$program: ${#names[@]} nodes of $schedule in namespaces takt-$run-*, bridge $bridge, $medium, netem $netem_text, for $duration; $takt" >&2
# Each node writes its binary records (one per round, Sources/TaktRuntime/NodeRecord.swift) to
# stdout and its JSON summary to stderr. The verdict is read from the records, not the summaries:
# nodes never stop in the same instant, and one that stops a slot before another is seen to fall
# silent, so a summary's final membership can lack a node that was there until the end. `ip netns
# exec` execs the command: the process id is the node's own (and --records makes it exit with us).
for i in "${!names[@]}"; do
    name=${names[i]}
    ip netns exec "takt-$run-$name" "$takt" node "$schedule" --node "$name" --duration "$duration" --json --records \
        "${medium_args[@]}" "${node_args[@]}" >"$work/$name.records" 2>"$work/$name.err" &
    pids+=($!)
done

# Wait for every node; one still running 15 s after --duration is stopped (SIGTERM, then SIGKILL)
# and fails the run.
deadline=$((SECONDS + $(seconds_of "$duration") + 15))
alive() { local pid; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
while alive && ((SECONDS < deadline)); do sleep 0.1; done
statuses=()
for i in "${!pids[@]}"; do
    status=0
    if kill -0 "${pids[i]}" 2>/dev/null; then
        echo "$program: node ${names[i]} still running 15 s after --duration: stopped" >&2
        kill -TERM "${pids[i]}" 2>/dev/null || true
        sleep 1
        kill -KILL "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" || true
        status=124
    else
        wait "${pids[i]}" || status=$?
    fi
    statuses+=("$status")
done

# --- The verdict --------------------------------------------------------------------------------
# Round-end records (kind 1) as "ROUND STATUS BITS RESTARTS": the C-state round (bytes 8–15), the
# status (byte 1: 0 listening, 1 integrating, 2 cold starting, 3 active, 4 frozen), one 0/1 per
# node of the membership (bytes 32–63, node i at bit i % 8 of byte 32 + i / 8), and how often the
# round had gone backwards since the node was first active with every node (the node, or the
# whole cluster, cold-started again; contention during start-up is not counted). Records are 352
# bytes.
everyone=$(printf '1%.0s' $(seq "$count"))
round_ends() {
    od -An -v -tu1 -w352 "$1" | awk -v n="$count" -v all="$everyone" '$1 == 1 && NF == 352 {
        r = 0; for (k = 16; k >= 9; k--) r = r * 256 + $k
        bits = ""; for (i = 0; i < n; i++) bits = bits (int($(33 + int(i / 8)) / 2 ^ (i % 8)) % 2)
        if (full && r < last) restarts++
        if ($2 == 3 && bits == all) full = 1
        print r, $2, bits, restarts + 0; last = r }'
}
status_names=(listening integrating coldStarting active frozen)
for name in "${names[@]}"; do round_ends "$work/$name.records" >"$work/$name.rounds"; done
# The last round every node ended, counted since each node's last restart of the round (a node
# may lack a round it spent out of the cluster).
final_rounds() { awk 'NR == FNR { last = $4; next } $4 == last { print $1 }' "$1" "$1" | sort -nu; }
common=$(for name in "${names[@]}"; do final_rounds "$work/$name.rounds"; done \
    | awk -v n="$count" '{ c[$1]++ } c[$1] == n && $1 + 0 > best + 0 { best = $1 } END { print best }')
ok=1
[[ -n $common ]] || ok=0
verdicts=()  # per node: "STATUS MEMBERS" at the common round, or "- -"
outs=()      # per node: "OUT RESTARTS": rounds ended outside a full membership after first being in
             # one, and how often the node saw the round go backwards
for i in "${!names[@]}"; do
    name=${names[i]}
    if [[ ${statuses[i]} != 0 || -z $(sed -n '/^{$/p' "$work/$name.err") ]]; then
        ok=0
        echo "$program: node $name exited with status ${statuses[i]}:" >&2
        sed 's/^/  /' "$work/$name.err" >&2
    fi
    outs+=("$(awk -v all="$everyone" '$2 == 3 && $3 == all { full = 1; next } full { n++ } END { print n + 0, $4 + 0 }' "$work/$name.rounds")")
    line=""
    [[ -z $common ]] || line=$(awk -v r="$common" '$1 == r' "$work/$name.rounds" | tail -n 1)
    if [[ -z $line ]]; then
        ok=0
        verdicts+=("- -")
        continue
    fi
    read -r _ code bits _ <<<"$line"
    members=()
    for j in "${!names[@]}"; do [[ ${bits:j:1} == 1 ]] && members+=("${names[j]}"); done
    [[ $code == 3 && $bits == "$everyone" ]] || ok=0
    verdicts+=("${status_names[code]:-status$code} $(IFS=,; echo "${members[*]}")")
done

# --- The report ---------------------------------------------------------------------------------
summary_of() { sed -n '/^{$/,$p' "$work/$1.err"; }
# A number from a node's JSON summary (collapsed to one line).
number() { summary_of "$2" | tr -d ' \n' | sed -n "s/.*\"$1\":\\(-\\{0,1\\}[0-9][0-9]*\\).*/\\1/p"; }
if ((json)); then
    quote() { printf '"%s"' "$(sed 's/\\/\\\\/g; s/"/\\"/g' <<<"$1")"; }
    printf '{\n"schedule": %s, "medium": "%s", "duration": "%s", "netem": %s,\n"last_common_round": %s, "ok": %s,\n"nodes": [' \
        "$(quote "$schedule")" "$medium" "$duration" "$(quote "$netem_text")" "${common:-null}" \
        "$( ((ok)) && echo true || echo false)"
    for i in "${!names[@]}"; do
        read -r state members <<<"${verdicts[i]}"
        read -r out restarts <<<"${outs[i]}"
        summary=$(summary_of "${names[i]}")
        ((i == 0)) || printf ','
        printf '\n{"node": "%s", "address": "10.77.0.%d", "exit_status": %d, "rounds_out": %d, "round_restarts": %d,\n "at_last_common_round": ' \
            "${names[i]}" $((i + 1)) "${statuses[i]}" "$out" "$restarts"
        if [[ $state == - ]]; then printf 'null'; else
            printf '{"status": "%s", "membership": [%s]}' "$state" "$(sed 's/[^,][^,]*/"&"/g' <<<"$members")"
        fi
        printf ',\n "summary": %s}' "${summary:-null}"
    done
    printf '\n]}\n'
else
    echo "status and membership at round ${common:-?}, the last round every node ended; 'out': rounds the node"
    echo "ended outside the full membership after first joining it; 'again': times its round went back after"
    echo "that (it, or the whole cluster, cold-started again); the rest from each node's summary:"
    printf '%-10s %-11s %-13s %-22s %4s %5s %7s %7s %9s %8s %9s %12s\n' \
        node address status membership out again rounds sent accepted missing rejected "p99 late"
    for i in "${!names[@]}"; do
        read -r state members <<<"${verdicts[i]}"
        read -r out restarts <<<"${outs[i]}"
        p99=$(number p99 "${names[i]}")
        printf '%-10s %-11s %-13s %-22s %4s %5s %7s %7s %9s %8s %9s %12s\n' "${names[i]}" "10.77.0.$((i + 1))" "$state" "{$members}" \
            "$out" "$restarts" "$(number rounds "${names[i]}")" "$(number frames_sent "${names[i]}")" "$(number frames_accepted "${names[i]}")" \
            "$(number frames_missing "${names[i]}")" "$(number frames_rejected "${names[i]}")" "${p99:+$p99 ns}"
    done
fi
most_restarts=$(printf '%s\n' "${outs[@]}" | awk '$2 > m { m = $2 } END { print m + 0 }')
if ((most_restarts > 0)); then
    times=$( ((most_restarts == 1)) && echo once || echo "$most_restarts times")
    echo "$program: note: a node's round went back $times after the cluster had formed (the node, or the whole cluster, cold-started again): nodes stalled longer than the schedule tolerates (Docs/running.md)" >&2
fi
if ((ok)); then
    echo "$program: every node active with all ${#names[@]} nodes in its membership at round $common" >&2
    exit 0
fi
echo "$program: not every node was active with all ${#names[@]} nodes in its membership at the last round all ended" >&2
exit 1
