#!/usr/bin/env bash
# Real programs on evring: redis-server under redis-benchmark and nginx under
# wrk, each run natively and under LD_PRELOAD=libevring-preload.so in the
# same run, alternating, for several rounds.  Reports the median requests/s
# of each, the ratio preload/native, and every error; see bench/README.md.
#
#   bench/realprogs.sh -p path/to/libevring-preload.so [options]
#
#   -p FILE   the preload library (required)
#   -r N      rounds (default 5); each round runs every program both ways,
#             the order swapped every other round
#   -n N      redis-benchmark requests per test (default 100000)
#   -c N      connections, both load generators (default 50)
#   -t LIST   redis-benchmark tests (default set,get)
#   -d SECS   wrk duration per run (default 5)
#   -w N      wrk threads (default 2)
#   -o FILE   also write the summary table (markdown) to FILE
#   -k        keep the scratch directory (logs, configs, preload counts)
#   -P        do not pin: by default, on 2 or more CPUs, the server runs on
#             CPU 0 and the load generator on the others
#
# It installs nothing: "make realprogs" installs redis-server, redis-tools,
# nginx-light and wrk first (as root, only what is missing).  Servers listen
# on 127.0.0.1 only, on ports found free, with a scratch directory of their
# own, and are stopped at the end.
#
# The preloaded runs must really go through evring: the preload writes the
# calls it routed at exit (EVRING_PRELOAD_STATS), and a preloaded server
# whose event loop made no epoll_wait() through it fails the run, as do
# errors (redis-benchmark failures, wrk socket errors or non-2xx
# responses).  A ratio under the target (0.90, judged on the median of the
# rounds' own ratios) is reported, not failed: benchmarks measure, tests
# judge.
set -uo pipefail

preload='' rounds=5 requests=100000 conns=50 tests=set,get duration=5
wthreads=2 out='' keep=0 pin=1
while getopts "p:r:n:c:t:d:w:o:kP" opt; do
	case $opt in
	p) preload=$OPTARG ;;
	r) rounds=$OPTARG ;;
	n) requests=$OPTARG ;;
	c) conns=$OPTARG ;;
	t) tests=$OPTARG ;;
	d) duration=$OPTARG ;;
	w) wthreads=$OPTARG ;;
	o) out=$OPTARG ;;
	k) keep=1 ;;
	P) pin=0 ;;
	*) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
	esac
done
target=0.90

die() {
	echo "realprogs: $*" >&2
	exit 1
}

[[ -n $preload ]] || die "-p libevring-preload.so is required"
[[ -r $preload ]] || die "$preload: not found (make lib builds it)"
preload=$(readlink -f "$preload")
for c in redis-server redis-cli redis-benchmark nginx wrk; do
	command -v "$c" >/dev/null ||
	    die "$c is missing: 'make realprogs' installs it"
done

scratch=$(mktemp -d /tmp/realprogs.XXXXXX) || die "mktemp failed"
# nginx's worker runs as an unprivileged user and must read the files.
chmod 755 "$scratch"
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if ((keep)); then
		echo "realprogs: scratch directory kept: $scratch"
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ncpu=$(nproc)
srv_pin=() cli_pin=()
if ((pin && ncpu >= 2)); then
	srv_pin=(taskset -c 0)
	cli_pin=(taskset -c "1-$((ncpu - 1))")
fi

# A TCP port on 127.0.0.1 that nothing listens on, below the range the
# host hands out to outgoing connections: a port taken from that range can
# be in use by a client socket of the previous benchmark (nginx then fails
# to bind with EADDRINUSE, which happened here once in about ten runs).
eph_low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range \
    2>/dev/null || echo 32768)
[[ $eph_low =~ ^[0-9]+$ ]] && ((eph_low > 11024)) || eph_low=32768
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((10000 + RANDOM % (eph_low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# Wait until something accepts connections on port $1 (5 s at most).
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# Start a server (the rest of the arguments) natively or preloaded ($1),
# its counts going to the file $2; sets server_pid.
start_server() {
	local mode=$1 stats=$2
	shift 2
	: > "$stats"
	chmod 666 "$stats"
	if [[ $mode == preload ]]; then
		LD_PRELOAD=$preload EVRING_PRELOAD_STATS=$stats \
		    "${srv_pin[@]}" "$@" &
	else
		"${srv_pin[@]}" "$@" &
	fi
	server_pid=$!
}

stop_server() {
	kill -TERM "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
}

# The most epoll_wait() calls any process of a preloaded run routed.
routed_waits() {
	awk '{ for (i = 1; i < NF; i++) if ($i == "epoll_wait" &&
	    $(i + 1) > m) m = $(i + 1) } END { print m + 0 }' "$1"
}

# Fail the run unless the preloaded server's counts (file $1) show
# epoll_wait() calls through evring; append the count to file $3.
errors=0
check_routed() {	# file what waits-file
	local n
	n=$(routed_waits "$1")
	if ((n == 0)); then
		echo "realprogs: $2 under the preload routed no epoll_wait()" \
		    "through evring ($1: $(cat "$1"))" >&2
		errors=$((errors + 1))
	fi
	echo "$n" >> "$3"
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------------ redis

redis_port=$(free_port)
mkdir -p "$scratch/redis"
IFS=, read -r -a redis_tests <<<"$tests"

run_redis() {	# mode round
	local mode=$1 r=$2 csv log rc line t rps
	log=$scratch/redis/server-$mode-$r.log
	start_server "$mode" "$scratch/redis/stats-$mode-$r" \
	    redis-server --port "$redis_port" --bind 127.0.0.1 \
	    --protected-mode yes --save "" --appendonly no --daemonize no \
	    --dir "$scratch/redis" --logfile "$log"
	if ! wait_port "$redis_port"; then
		echo "realprogs: redis-server ($mode) did not start; see $log" >&2
		errors=$((errors + 1))
		stop_server
		return
	fi
	csv=$("${cli_pin[@]}" redis-benchmark -h 127.0.0.1 -p "$redis_port" \
	    -n "$requests" -c "$conns" -t "$tests" --csv 2>&1)
	rc=$?
	stop_server
	if ((rc != 0)) || grep -qi error <<<"$csv"; then
		echo "realprogs: redis-benchmark ($mode) failed (status $rc):" \
		    "$csv" >&2
		errors=$((errors + 1))
		return
	fi
	for t in "${redis_tests[@]}"; do
		line=$(grep -i "^\"$t\"" <<<"$csv")
		rps=$(cut -d, -f2 <<<"$line" | tr -d '"')
		if [[ -z $rps ]]; then
			echo "realprogs: redis-benchmark ($mode) reported no" \
			    "$t: $csv" >&2
			errors=$((errors + 1))
			continue
		fi
		echo "$rps" >> "$scratch/redis/rps-${t,,}-$mode"
	done
	[[ $mode == preload ]] && check_routed \
	    "$scratch/redis/stats-$mode-$r" redis-server "$scratch/redis/waits"
	printf '  redis %-7s %s\n' "$mode" "$(for t in "${redis_tests[@]}"; do
	    printf '%s %s  ' "${t^^}" "$(tail -1 \
	    "$scratch/redis/rps-${t,,}-$mode" 2>/dev/null)"; done)"
}

# ------------------------------------------------------------------ nginx

nginx_port=$(free_port)
while [[ $nginx_port == "$redis_port" ]]; do nginx_port=$(free_port); done
ng=$scratch/nginx
mkdir -p "$ng/html" "$ng/tmp" "$ng/logs"
chmod 755 "$ng" "$ng/html"
# A small static file: 612 bytes, the size of nginx's own welcome page.
head -c 612 /dev/zero | tr '\0' 'x' > "$ng/html/index.html"
chmod 644 "$ng/html/index.html"
# master_process on with one worker, so that the master's fork() of the
# worker is part of what is measured; daemon off, so that the script owns
# the master's process.
cat > "$ng/nginx.conf" <<EOF
worker_processes 1;
master_process on;
daemon off;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events {
	worker_connections 1024;
}
http {
	access_log off;
	client_body_temp_path $ng/tmp/body;
	proxy_temp_path $ng/tmp/proxy;
	fastcgi_temp_path $ng/tmp/fastcgi;
	uwsgi_temp_path $ng/tmp/uwsgi;
	scgi_temp_path $ng/tmp/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$nginx_port;
		root $ng/html;
	}
}
EOF
nginx -t -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" \
    >"$ng/logs/check.log" 2>&1 ||
    die "nginx rejects its configuration: $(cat "$ng/logs/check.log")"

run_nginx() {	# mode round
	local mode=$1 r=$2 res rps sock non2xx
	start_server "$mode" "$ng/stats-$mode-$r" \
	    nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log"
	if ! wait_port "$nginx_port"; then
		echo "realprogs: nginx ($mode) did not start; see" \
		    "$ng/logs/error.log" >&2
		errors=$((errors + 1))
		stop_server
		return
	fi
	res=$("${cli_pin[@]}" wrk -t "$wthreads" -c "$conns" -d "${duration}s" \
	    "http://127.0.0.1:$nginx_port/index.html" 2>&1)
	# SIGQUIT: the master stops the worker gracefully, so that the
	# worker exits through exit() and its counts are written.
	kill -QUIT "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$res")
	sock=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' \
	    <<<"$res")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$res")
	sock=${sock:-0} non2xx=${non2xx:-0}
	if [[ -z $rps ]]; then
		echo "realprogs: wrk ($mode) reported no rate: $res" >&2
		errors=$((errors + 1))
		return
	fi
	echo "$rps" >> "$ng/rps-$mode"
	echo "$((sock + non2xx))" >> "$ng/errors-$mode"
	if ((sock + non2xx > 0)); then
		echo "realprogs: wrk ($mode): $sock socket errors, $non2xx" \
		    "non-2xx responses" >&2
		errors=$((errors + sock + non2xx))
	fi
	[[ $mode == preload ]] && check_routed "$ng/stats-$mode-$r" nginx \
	    "$ng/waits"
	printf '  nginx %-7s %s req/s, %s errors\n' "$mode" "$rps" \
	    "$((sock + non2xx))"
}

# ------------------------------------------------------------------ rounds

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
echo "realprogs: $(redis-server --version | awk '{ print $1, $2, $3 }');" \
    "$(nginx -v 2>&1 | sed 's/.*: //'); $(wrk --version 2>&1 | head -1 |
    awk '{ print $1, $2 }')"
pinned="not pinned"
((${#srv_pin[@]})) && pinned="server on CPU 0, load generator on the others"
echo "realprogs: $ncpu CPUs, Linux $(uname -r), load $loadavg; $pinned"
echo "realprogs: redis-benchmark -n $requests -c $conns -t $tests;" \
    "wrk -t $wthreads -c $conns -d ${duration}s; $rounds rounds"
for r in $(seq "$rounds"); do
	if ((r % 2)); then order=(native preload); else order=(preload native); fi
	echo "round $r:"
	for m in "${order[@]}"; do run_redis "$m" "$r"; done
	for m in "${order[@]}"; do run_nginx "$m" "$r"; done
done

# ------------------------------------------------------------------ summary

# A row of the summary.  "ratio" is preload/native of the medians;
# "paired" is the median of each round's preload/native, the two runs of
# a round having been made a few seconds apart, which is what the verdict
# goes by: on a shared machine the load drifts between rounds more than
# within one.
row() {	# name native-file preload-file errors
	local nat pre ratio paired verdict
	nat=$(median < "$2" 2>/dev/null)
	pre=$(median < "$3" 2>/dev/null)
	ratio=$(awk -v a="$pre" -v b="$nat" 'BEGIN {
		if (b + 0 > 0) printf "%.2f", a / b; else print "nan" }')
	paired=$(paste "$2" "$3" 2>/dev/null | awk 'NF == 2 && $1 > 0 {
		print $2 / $1 }' | median)
	paired=$(awk -v r="$paired" 'BEGIN {
		if (r == "nan") print r; else printf "%.2f", r }')
	verdict=$(awk -v r="$paired" -v t="$target" 'BEGIN {
		print (r != "nan" && r + 0 >= t) ? "PASS" : "MISS" }')
	printf '| %-9s | %12.0f | %13.0f | %5s | %6s | %6s | %s |\n' "$1" \
	    "$nat" "$pre" "$ratio" "$paired" "$4" "$verdict"
}
{
	echo
	echo "| program   | native req/s | preload req/s | ratio | paired | errors | target $target |"
	echo "|-----------|-------------:|--------------:|------:|-------:|-------:|:-----------:|"
	for t in "${redis_tests[@]}"; do
		row "redis ${t^^}" "$scratch/redis/rps-${t,,}-native" \
		    "$scratch/redis/rps-${t,,}-preload" 0
	done
	row "nginx" "$ng/rps-native" "$ng/rps-preload" \
	    "$(cat "$ng/errors-native" "$ng/errors-preload" 2>/dev/null |
	    awk '{ s += $1 } END { print s + 0 }')"
	echo
	echo "Medians of $rounds rounds; ratio: of the medians; paired: the" \
	    "median of the rounds' own ratios, which the target is judged" \
	    "by.  Preloaded servers routed through evring (median" \
	    "epoll_wait() calls per run): redis" \
	    "$(median < "$scratch/redis/waits" 2>/dev/null)," \
	    "nginx worker $(median < "$ng/waits" 2>/dev/null)."
} | tee ${out:+"$out"}

if ((errors > 0)); then
	echo "realprogs: FAILED: $errors errors" >&2
	exit 1
fi
echo "realprogs: no errors; every preloaded run went through evring"
