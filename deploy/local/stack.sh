#!/usr/bin/env bash
# Local service stack for Fluxera Activity: PostgreSQL, Redis, OpenSearch,
# Kafka and SeaweedFS (S3) on loopback, without Docker.
#
#   stack.sh up       start all services; healthy ones are left alone
#   stack.sh down     stop all services, keep their data
#   stack.sh start SERVICE...   start the named services (postgres, redis,
#                               opensearch, kafka, seaweedfs) and wait until
#                               they answer
#   stack.sh stop SERVICE...    stop the named services, keep their data
#   stack.sh status   one line per service, plus the logs folder
#   stack.sh env      export lines for clients: eval "$(deploy/local/stack.sh env)"
#
# Data and logs live in ${FLUXERA_STACK_DIR:-/var/lib/fluxera-stack}.
# OpenSearch's heap is ${FLUXERA_STACK_OPENSEARCH_HEAP:-2g}; a change takes
# effect when OpenSearch next starts (stack.sh stop opensearch; stack.sh up).
# Downloads are cached outside the checkout, in ~/.m2 (Maven) and
# ~/.cache/fluxera, so a fresh clone reuses them.
#
# Runs as root (CI runs it as root). PostgreSQL, Redis, OpenSearch and
# SeaweedFS run as the unprivileged system user fluxera-stack, Kafka runs as
# root.
# Needs Java 17 and, for the first download only, Maven; SeaweedFS is built
# once from its Go module with the go command, into ~/.cache/fluxera. Missing
# Debian packages (postgresql-15, redis-server, curl, unzip, procps) are
# installed with apt-get.
set -euo pipefail

# The services started here outlive this script, so they must not inherit
# descriptors its caller left open — a lock file held around this script
# would otherwise stay locked for as long as the service runs.
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd != 255)); then
		eval "exec $fd>&-" 2>/dev/null || true
	fi
done

STACK_DIR=${FLUXERA_STACK_DIR:-/var/lib/fluxera-stack}
# OpenSearch's heap: its live set over the kept 5M-event bench corpus alone
# is near 500 MB, so a smaller heap spends the node's time collecting and
# trips its circuit breakers. The machine has 24 GiB; most of the rest is
# left to the page cache, where Lucene's files are read from.
OS_HEAP=${FLUXERA_STACK_OPENSEARCH_HEAP:-2g}
if ! [[ $OS_HEAP =~ ^[1-9][0-9]*[mg]$ ]]; then
	echo "stack: FLUXERA_STACK_OPENSEARCH_HEAP must be a size such as 2g or 1536m, not '$OS_HEAP'" >&2
	exit 2
fi
[[ $STACK_DIR == /* ]] || STACK_DIR=$PWD/$STACK_DIR
STACK_DIR=${STACK_DIR%/}
LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run
STACK_USER=fluxera-stack
CACHE_DIR=${HOME:-/root}/.cache/fluxera
M2_REPO=${HOME:-/root}/.m2/repository

# Services in start order: OpenSearch boots slowest, so it goes first and the
# others start while it warms up.
# SeaweedFS builds from source the first time, which takes minutes, so it
# starts right after OpenSearch.
SERVICES=(opensearch seaweedfs postgres redis kafka)

PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=15432
PG_DIR=$STACK_DIR/postgres
PG_DATA=$PG_DIR/data

REDIS_PORT=16379
REDIS_DIR=$STACK_DIR/redis

OS_VERSION=2.19.4
OS_HTTP_PORT=19200
OS_TRANSPORT_PORT=19300
OS_DIR=$STACK_DIR/opensearch
OS_HOME=$OS_DIR/opensearch-$OS_VERSION
OS_CONF=$OS_DIR/config
OS_ZIP=$M2_REPO/org/opensearch/distribution/integ-test-zip/opensearch/$OS_VERSION/opensearch-$OS_VERSION.zip

KAFKA_VERSION=4.1.1
KAFKA_LOG4J_VERSION=2.24.3 # the log4j version Kafka itself depends on
KAFKA_PORT=19092
KAFKA_CONTROLLER_PORT=19093
KAFKA_DIR=$STACK_DIR/kafka
KAFKA_CACHE=$CACHE_DIR/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_CACHE/libs

# SeaweedFS: one process with a master, a volume server, a filer and the S3
# gateway, every port on loopback. The local S3 identity is fixed: these
# credentials open nothing but this loopback store.
SW_VERSION=v0.0.0-20261109003541-7506e5f91cd6
SW_RELEASE=4.53 # the release SW_VERSION builds (weed version); deploy/compose runs its image
SW_MODULE=github.com/seaweedfs/seaweedfs
SW_S3_PORT=18333
SW_S3_GRPC_PORT=18334
SW_MASTER_PORT=18335
SW_MASTER_GRPC_PORT=18336
SW_VOLUME_PORT=18337
SW_VOLUME_GRPC_PORT=18338
SW_FILER_PORT=18339
SW_FILER_GRPC_PORT=18340
SW_DIR=$STACK_DIR/seaweedfs
SW_CACHE=$CACHE_DIR/seaweedfs-$SW_VERSION
SW_BIN=$SW_CACHE/weed
SW_ACCESS_KEY=fluxera-local
SW_SECRET_KEY=fluxera-local-secret
SW_REGION=us-east-1

JAVA17_HOME=

# ---------------------------------------------------------------- helpers

say() { echo "stack: $*"; }
die() {
	echo "stack: $*" >&2
	exit 1
}

require_root() {
	[[ $(id -u) == 0 ]] || die "must run as root (services run as the user $STACK_USER); try: sudo $0 $*"
}

# Runs a command as the unprivileged stack user.
as_stack() {
	setpriv --reuid="$STACK_USER" --regid="$(id -g "$STACK_USER")" --init-groups -- \
		env HOME="$STACK_DIR" USER="$STACK_USER" LOGNAME="$STACK_USER" "$@"
}

# True when COMMAND is on the PATH and executable.
have() {
	local path
	path=$(command -v "$1") && [[ -x $path ]]
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when PORT stays open for 5 s (a killed process may still be exiting).
port_taken() {
	local i
	for ((i = 0; i < 10; i++)); do
		port_open "$1" || return 1
		sleep 0.5
	done
}

# Prints the pid stored in FILE if that process is alive and its command line
# contains MARKER (so a recycled pid is never mistaken for ours).
pid_from_file() {
	local file=$1 marker=$2 pid
	[[ -r $file ]] || return 1
	pid=$(head -n 1 "$file" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	cmdline_has "$pid" "$marker" || return 1
	echo "$pid"
}

cmdline_has() {
	local cmd
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $cmd == *"$2"* ]]
}

# Prints the pid of a live process whose command line contains NEEDLE (a
# single argument) and, when given, also TEXT.
pid_by_marker() {
	local file pid
	while read -r file; do
		pid=${file#/proc/}
		pid=${pid%/cmdline}
		[[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
		if cmdline_has "$pid" "$1" && cmdline_has "$pid" "${2:-$1}"; then
			echo "$pid"
			return 0
		fi
	done < <(grep -lsaF -- "$1" /proc/[0-9]*/cmdline)
	return 1
}

# Lifts the open-files limit for the JVMs (OpenSearch warns below 65535).
raise_nofile() {
	ulimit -Hn 65536 2>/dev/null || true
	ulimit -Sn 65536 2>/dev/null || true
}

# Creates an empty file owned by the stack user unless it exists.
stack_file() {
	[[ -e $1 ]] || install -m 644 -o "$STACK_USER" -g "$(id -g "$STACK_USER")" /dev/null "$1"
}

# Prints the last lines of the service's logs and exits.
fail_with_log() {
	local svc=$1 file
	shift
	echo "stack: $svc: $*" >&2
	for file in $("${svc}_logs"); do
		[[ -s $file ]] || continue
		echo "---- last 30 lines of $file" >&2
		tail -n 30 "$file" >&2
	done
	exit 1
}

# Installs Debian packages; refreshes the package lists only if needed.
apt_install() {
	local log=$LOG_DIR/apt.log
	say "installing $* with apt-get (log: $log)"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1; then
		apt-get update -q >>"$log" 2>&1 || true
		apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			die "apt-get install $* failed (log: $log)"
		}
	fi
}

ensure_packages() {
	local missing=()
	[[ -x $PG_BIN/postgres && -x $PG_BIN/psql ]] || missing+=(postgresql-15)
	have redis-server && have redis-cli || missing+=(redis-server)
	have curl || missing+=(curl)
	have unzip || missing+=(unzip)
	have ps || missing+=(procps) # the OpenSearch launcher calls ps
	have pdftotext || missing+=(poppler-utils) # the tests read the text of PDF exports and reports with it
	# The OCSF tests validate events with a Python package in a virtual environment of their own.
	have python3 || missing+=(python3)
	{ have python3 && python3 -c 'import ensurepip' 2>/dev/null; } || missing+=(python3-venv)
	have chromium || missing+=(chromium) # the console's browser tests drive it headless
	((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

ensure_user() {
	id -u "$STACK_USER" >/dev/null 2>&1 && return 0
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$STACK_USER" || die "could not create the system user $STACK_USER"
}

# Creates the stack folders. Everything except Kafka's belongs to the stack user.
ensure_layout() {
	local dir
	mkdir -p "$STACK_DIR"
	for dir in "$LOG_DIR" "$RUN_DIR" "$PG_DIR" "$PG_DIR/run" "$REDIS_DIR" "$REDIS_DIR/data" \
		"$OS_DIR" "$OS_DIR/data" "$OS_DIR/tmp" "$SW_DIR" "$SW_DIR/data" "$SW_DIR/run"; do
		[[ -d $dir ]] || install -d -m 755 -o "$STACK_USER" -g "$(id -g "$STACK_USER")" "$dir"
	done
	[[ -d $KAFKA_DIR ]] || install -d -m 755 "$KAFKA_DIR"
	as_stack test -w "$LOG_DIR" ||
		die "user $STACK_USER cannot write to $LOG_DIR (a parent folder of $STACK_DIR is closed to other users?)"
}

# Finds a Java 17 runtime (Kafka and OpenSearch both run on it).
find_java17() {
	local home
	for home in "${FLUXERA_JAVA17_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-* \
		/usr/lib/jvm/temurin-17-*; do
		[[ -n $home && -x $home/bin/java ]] || continue
		if grep -qs '^JAVA_VERSION="17[."]' "$home/release" ||
			"$home/bin/java" -version 2>&1 | grep -q 'version "17[."]'; then
			JAVA17_HOME=$home
			return 0
		fi
	done
	die "Java 17 not found (expected /usr/lib/jvm/java-17-openjdk-amd64); install it: apt-get install -y openjdk-17-jdk-headless"
}

need_maven() {
	have mvn ||
		die "Maven not found; it is needed once to download $1 from Maven Central: apt-get install -y maven"
}

# Runs Maven quietly; its output goes to logs/maven.log and is shown on failure.
mvn_run() {
	local log=$LOG_DIR/maven.log
	echo "== $(date -u +%FT%TZ) mvn $*" >>"$log"
	JAVA_HOME=$JAVA17_HOME mvn -B -Dstyle.color=never -Dmaven.repo.local="$M2_REPO" "$@" </dev/null >>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		return 1
	}
}

# ---------------------------------------------------------------- PostgreSQL

postgres_addr() { echo "postgres://fluxera:fluxera@127.0.0.1:$PG_PORT/fluxera"; }
postgres_ports() { echo "$PG_PORT"; }
postgres_logs() { echo "$LOG_DIR/postgres.log"; }
# postmaster.pid is readable only by the stack user; others find the process.
postgres_pid() {
	pid_from_file "$PG_DATA/postmaster.pid" "$PG_DATA" ||
		pid_by_marker "$PG_DATA" "bin/postgres -D $PG_DATA "
}

postgres_healthy() {
	[[ $(PGPASSWORD=fluxera PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U fluxera \
		-d fluxera -Atqc 'select 1' 2>/dev/null) == 1 ]]
}

# Creates the cluster once: role fluxera (superuser, scram password) and
# database fluxera. Built in a scratch folder and moved into place at the end,
# so an interrupted run never leaves a half-made cluster behind.
postgres_init() {
	[[ -f $PG_DATA/PG_VERSION ]] && return 0
	local tmp=$PG_DIR/data.init pwfile=$PG_DIR/pwfile log=$LOG_DIR/postgres.log
	say "postgres: creating the database cluster in $PG_DATA"
	stack_file "$log"
	rm -rf "$tmp"
	install -m 600 -o "$STACK_USER" /dev/null "$pwfile"
	echo fluxera >"$pwfile"
	as_stack "$PG_BIN/initdb" -D "$tmp" -U fluxera --pwfile="$pwfile" --auth=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 >>"$log" 2>&1 || {
		rm -f "$pwfile"
		fail_with_log postgres "initdb failed"
	}
	rm -f "$pwfile"
	echo "include_if_exists = 'fluxera.conf'" >>"$tmp/postgresql.conf"
	echo "CREATE DATABASE fluxera OWNER fluxera;" |
		as_stack "$PG_BIN/postgres" --single -D "$tmp" postgres >>"$log" 2>&1 ||
		fail_with_log postgres "creating the database fluxera failed"
	mv "$tmp" "$PG_DATA"
}

# Removes lock files left by a crashed postmaster (callers checked that no
# postmaster of ours is running). A killed process can linger for a moment,
# and PostgreSQL refuses to start while the pid in a lock file is alive.
postgres_clear_stale_locks() {
	local file pid i
	for file in "$PG_DATA/postmaster.pid" "$PG_DIR/run/.s.PGSQL.$PG_PORT.lock"; do
		pid=$(head -n 1 "$file" 2>/dev/null) || continue
		for ((i = 0; i < 50; i++)); do
			if ! [[ $pid =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then break; fi
			sleep 0.2
		done
		rm -f "$file"
	done
}

postgres_start() {
	postgres_init
	cat >"$PG_DATA/fluxera.conf" <<EOF
# Written by deploy/local/stack.sh on every start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
shared_buffers = 256MB
password_encryption = scram-sha-256
EOF
	chown "$STACK_USER" "$PG_DATA/fluxera.conf"
	postgres_clear_stale_locks
	say "postgres: starting on 127.0.0.1:$PG_PORT"
	stack_file "$LOG_DIR/postgres.log"
	as_stack "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$LOG_DIR/postgres.log" -w -t 60 -s start >/dev/null 2>&1 ||
		fail_with_log postgres "pg_ctl start failed"
}

# ---------------------------------------------------------------- Redis

redis_addr() { echo "127.0.0.1:$REDIS_PORT"; }
redis_ports() { echo "$REDIS_PORT"; }
redis_logs() { echo "$LOG_DIR/redis.log"; }
# The process title carries the config path (see proc-title-template below).
redis_pid() { pid_from_file "$RUN_DIR/redis.pid" "$REDIS_DIR/redis.conf"; }

redis_healthy() {
	[[ $(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

redis_start() {
	cat >"$REDIS_DIR/redis.conf" <<EOF
# Written by deploy/local/stack.sh on every start.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $RUN_DIR/redis.pid
dir $REDIS_DIR/data
logfile $LOG_DIR/redis.log
proc-title-template "{title} {listen-addr} {server-mode} {config-file}"
EOF
	rm -f "$RUN_DIR/redis.pid"
	say "redis: starting on 127.0.0.1:$REDIS_PORT"
	stack_file "$LOG_DIR/redis.log"
	as_stack redis-server "$REDIS_DIR/redis.conf" </dev/null >/dev/null 2>&1 ||
		fail_with_log redis "redis-server failed to start"
}

# ---------------------------------------------------------------- OpenSearch

opensearch_addr() { echo "http://127.0.0.1:$OS_HTTP_PORT"; }
opensearch_ports() { echo "$OS_HTTP_PORT $OS_TRANSPORT_PORT"; }
opensearch_logs() { echo "$LOG_DIR/opensearch.log $LOG_DIR/opensearch-console.log"; }

# The pidfile appears only once the node is up; before that, find the JVM by
# its home folder argument.
opensearch_pid() {
	local marker="-Dopensearch.path.home=$OS_HOME"
	pid_from_file "$RUN_DIR/opensearch.pid" "$marker" || pid_by_marker "$marker"
}

opensearch_healthy() {
	curl -fsS -m 5 -o /dev/null \
		"http://127.0.0.1:$OS_HTTP_PORT/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

# Unpacks the distribution (fetched from Maven Central once) into the stack dir.
opensearch_install() {
	[[ -x $OS_HOME/bin/opensearch ]] && return 0
	if [[ ! -s $OS_ZIP ]]; then
		need_maven "OpenSearch $OS_VERSION"
		say "opensearch: downloading $OS_VERSION from Maven Central"
		mvn_run dependency:get -Dtransitive=false \
			-Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip" ||
			die "downloading OpenSearch $OS_VERSION with Maven failed"
		[[ -s $OS_ZIP ]] || die "OpenSearch zip missing after download: $OS_ZIP"
	fi
	say "opensearch: unpacking into $OS_DIR"
	local tmp=$OS_DIR/unpack.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	unzip -q "$OS_ZIP" -d "$tmp"
	chown -R "$STACK_USER:$(id -g "$STACK_USER")" "$tmp"
	mv "$tmp/opensearch-$OS_VERSION" "$OS_HOME"
	rm -rf "$tmp"
}

# Writes the node configuration into $OS_CONF (kept apart from the unpacked
# distribution). The integ-test distribution has no security plugin, so no
# plugins.security.* settings here: unknown settings stop the node.
opensearch_configure() {
	mkdir -p "$OS_CONF/jvm.options.d"
	cat >"$OS_CONF/opensearch.yml" <<EOF
# Written by deploy/local/stack.sh on every start.
cluster.name: fluxera-local
node.name: fluxera-local-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: $OS_HTTP_PORT
transport.port: $OS_TRANSPORT_PORT
path.data: $OS_DIR/data
path.logs: $LOG_DIR
# A nearly full disk must never block indexing in tests.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
	cat >"$OS_CONF/jvm.options" <<EOF
# Written by deploy/local/stack.sh on every start.
-Xms$OS_HEAP
-Xmx$OS_HEAP
-XX:+UseG1GC
-XX:G1ReservePercent=25
-XX:InitiatingHeapOccupancyPercent=30
-XX:+ExitOnOutOfMemoryError
-Djava.io.tmpdir=\${OPENSEARCH_TMPDIR}
-XX:ErrorFile=$LOG_DIR/opensearch-hs_err_pid%p.log
-Xlog:gc*,safepoint:file=$LOG_DIR/opensearch-gc.log:utctime,pid,tags:filecount=4,filesize=16m
18-:-Djava.security.manager=allow
20-:--add-modules=jdk.incubator.vector
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
EOF
	# One plain log file, logs/opensearch.log, instead of the stock set of
	# JSON, deprecation and slow logs.
	cat >"$OS_CONF/log4j2.properties" <<'EOF'
# Written by deploy/local/stack.sh on every start.
status = error
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${sys:opensearch.logs.base_path}${sys:file.separator}opensearch.log
appender.file.filePattern = ${sys:opensearch.logs.base_path}${sys:file.separator}opensearch-%i.log.gz
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 64MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 4
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
EOF
	chown -R "$STACK_USER:$(id -g "$STACK_USER")" "$OS_CONF"
}

opensearch_start() {
	opensearch_install
	opensearch_configure
	rm -f "$RUN_DIR/opensearch.pid"
	say "opensearch: starting on 127.0.0.1:$OS_HTTP_PORT"
	# -d returns as soon as the JVM is forked; readiness is awaited later.
	(cd "$OS_HOME" && raise_nofile && as_stack env OPENSEARCH_JAVA_HOME="$JAVA17_HOME" JAVA_HOME="$JAVA17_HOME" \
		OPENSEARCH_PATH_CONF="$OS_CONF" OPENSEARCH_TMPDIR="$OS_DIR/tmp" \
		./bin/opensearch -d -p "$RUN_DIR/opensearch.pid") \
		</dev/null >>"$LOG_DIR/opensearch-console.log" 2>&1 ||
		fail_with_log opensearch "the OpenSearch launcher failed"
}

# ---------------------------------------------------------------- Kafka

kafka_addr() { echo "127.0.0.1:$KAFKA_PORT"; }
kafka_ports() { echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"; }
kafka_logs() { echo "$LOG_DIR/kafka.log $LOG_DIR/kafka-console.log"; }
kafka_pid() {
	pid_from_file "$RUN_DIR/kafka.pid" "$KAFKA_DIR/server.properties" ||
		pid_by_marker "$KAFKA_DIR/server.properties" " kafka.Kafka "
}

# Sends a Kafka ApiVersions (v0) request and expects a reply with our
# correlation id and error code 0: proof the broker serves requests.
kafka_healthy() {
	local reply
	reply=$(timeout 5 bash -c '
		exec 3<>/dev/tcp/127.0.0.1/'"$KAFKA_PORT"' || exit 1
		printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x2a\x2a\x00\x05stack" >&3
		head -c 10 <&3 | od -An -tx1' 2>/dev/null | tr -d ' \n') || return 1
	[[ ${reply:8:12} == 00002a2a0000 ]]
}

# Fetches the broker jars from Maven Central once, into ~/.cache/fluxera.
kafka_install() {
	[[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar && -f $KAFKA_LIBS/log4j-slf4j-impl-$KAFKA_LOG4J_VERSION.jar ]] &&
		return 0
	need_maven "Kafka $KAFKA_VERSION"
	say "kafka: downloading $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
	mkdir -p "$KAFKA_CACHE"
	# Kafka logs through slf4j 1.x; log4j-slf4j-impl routes that to log4j2.
	cat >"$KAFKA_CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.fluxera</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
      <scope>runtime</scope>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
      <scope>runtime</scope>
    </dependency>
  </dependencies>
</project>
EOF
	rm -rf "$KAFKA_CACHE/libs.tmp"
	mvn_run -f "$KAFKA_CACHE/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$KAFKA_CACHE/libs.tmp" ||
		die "downloading the Kafka $KAFKA_VERSION jars with Maven failed"
	rm -rf "$KAFKA_LIBS"
	mv "$KAFKA_CACHE/libs.tmp" "$KAFKA_LIBS"
}

kafka_java() {
	"$JAVA17_HOME/bin/java" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_configure() {
	cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by deploy/local/stack.sh on every start.
# Single node, KRaft mode: broker and controller in one process.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
	cat >"$KAFKA_DIR/log4j2.properties" <<EOF
# Written by deploy/local/stack.sh on every start.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOG_DIR/kafka.log
appender.file.filePattern = $LOG_DIR/kafka-%i.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 64MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 4
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
EOF
}

# Formats the storage once; an existing meta.properties means it is done.
kafka_format() {
	[[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
	local id
	say "kafka: formatting storage in $KAFKA_DIR/data"
	id=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$LOG_DIR/kafka-console.log") ||
		fail_with_log kafka "StorageTool random-uuid failed"
	kafka_java kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" \
		>>"$LOG_DIR/kafka-console.log" 2>&1 || fail_with_log kafka "StorageTool format failed"
}

KAFKA_LOG_OFFSET=
kafka_start() {
	kafka_install
	kafka_configure
	kafka_format
	KAFKA_LOG_OFFSET=$(stat -c %s "$LOG_DIR/kafka.log" 2>/dev/null || echo 0)
	say "kafka: starting on 127.0.0.1:$KAFKA_PORT"
	# The subshell is not a process group leader, so setsid execs java in
	# place and $! is the broker's pid.
	(cd "$KAFKA_DIR" && raise_nofile && exec setsid "$JAVA17_HOME/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC \
		-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
		-cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties") \
		</dev/null >>"$LOG_DIR/kafka-console.log" 2>&1 &
	echo $! >"$RUN_DIR/kafka.pid"
}

# After a fresh start, also wait for the broker's own "started" log line.
# grep -c reads to the end: with pipefail, grep -q would stop early and the
# SIGPIPE it leaves tail would fail the check once the broker has logged
# more than a pipe's worth after the line. When the log rolled over since
# the start, the line may be in the rolled file, past the same offset.
kafka_started() {
	[[ -z $KAFKA_LOG_OFFSET ]] && return 0
	local log=$LOG_DIR/kafka.log size found
	size=$(stat -c %s "$log" 2>/dev/null || echo 0)
	if ((size >= KAFKA_LOG_OFFSET)); then
		found=$(tail -c +$((KAFKA_LOG_OFFSET + 1)) "$log" 2>/dev/null | grep -c 'Kafka Server started' || true)
	else
		found=$({
			tail -c +$((KAFKA_LOG_OFFSET + 1)) "$LOG_DIR/kafka-1.log" 2>/dev/null || true
			cat "$log" 2>/dev/null || true
		} | grep -c 'Kafka Server started' || true)
	fi
	((${found:-0} > 0))
}

# ---------------------------------------------------------------- SeaweedFS

seaweedfs_addr() { echo "http://127.0.0.1:$SW_S3_PORT"; }
seaweedfs_ports() {
	echo "$SW_S3_PORT $SW_S3_GRPC_PORT $SW_MASTER_PORT $SW_MASTER_GRPC_PORT $SW_VOLUME_PORT" \
		"$SW_VOLUME_GRPC_PORT $SW_FILER_PORT $SW_FILER_GRPC_PORT"
}
seaweedfs_logs() { echo "$LOG_DIR/seaweedfs.log $LOG_DIR/seaweedfs-build.log"; }
seaweedfs_pid() {
	pid_from_file "$RUN_DIR/seaweedfs.pid" "$SW_DIR/s3.json" ||
		pid_by_marker "$SW_DIR/s3.json" " server "
}

# A signed bucket listing with the local identity succeeds only once the S3
# gateway and the filer behind it both serve.
seaweedfs_healthy() {
	curl -fsS -m 5 -o /dev/null --aws-sigv4 "aws:amz:$SW_REGION:s3" --user "$SW_ACCESS_KEY:$SW_SECRET_KEY" \
		"http://127.0.0.1:$SW_S3_PORT/" 2>/dev/null
}

# True once the weed binary is built and cached.
seaweedfs_installed() { [[ -x $SW_BIN ]]; }

# Builds the weed binary once into ~/.cache/fluxera: the module is fetched
# with go mod download (go install refuses it for its replace directives)
# and built in a writable copy. A lock keeps two runs from building at
# once, and the binary is moved into place only when the build succeeded,
# so an interrupted build leaves nothing a later run would take for done.
seaweedfs_install() {
	seaweedfs_installed && return 0
	have go || die "the go command is needed once to build SeaweedFS $SW_VERSION (install Go 1.26 or newer)"
	mkdir -p "$SW_CACHE"
	local log=$LOG_DIR/seaweedfs-build.log
	(
		exec 9>"$SW_CACHE/lock"
		if ! flock -n 9; then
			say "seaweedfs: another run is building SeaweedFS; waiting for it"
			flock 9
		fi
		seaweedfs_installed && exit 0
		rm -rf "$SW_CACHE"/work.* # left by a build that was killed
		say "seaweedfs: building $SW_VERSION from its Go module into $SW_CACHE (once; about 5 minutes on two cores; log: $log)"
		src=$(go mod download -json "$SW_MODULE@$SW_VERSION" 2>>"$log" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || true
		[[ -n $src && -d $src ]] || {
			tail -n 30 "$log" >&2
			die "go mod download $SW_MODULE@$SW_VERSION failed (log: $log)"
		}
		work=$(mktemp -d "$SW_CACHE/work.XXXXXX")
		trap 'rm -rf "$work"' EXIT
		cp -r "$src/." "$work/src"
		chmod -R u+w "$work/src"
		echo "== $(date -u +%FT%TZ) go build ./weed in a copy of $src" >>"$log"
		(cd "$work/src" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
			go build -trimpath -ldflags '-s -w' -o "$work/weed" ./weed) </dev/null >>"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			die "building SeaweedFS failed (log: $log)"
		}
		"$work/weed" version >>"$log" 2>&1 || die "the built weed binary does not run (log: $log)"
		chmod 755 "$work/weed"
		mv -f "$work/weed" "$SW_BIN"
		say "seaweedfs: built $SW_BIN"
	) || exit 1
}

seaweedfs_configure() {
	# The cache is under root's home, which the stack user cannot enter:
	# the binary is copied beside the data, under a name of its own until
	# it is whole.
	if [[ ! -x $SW_DIR/weed-$SW_VERSION ]]; then
		local tmp
		tmp=$(mktemp "$SW_DIR/weed.XXXXXX")
		install -m 755 "$SW_BIN" "$tmp"
		mv -f "$tmp" "$SW_DIR/weed-$SW_VERSION"
	fi
	# The one S3 identity of the local stack, with every right on every
	# bucket; readable by the stack user only.
	install -m 600 -o "$STACK_USER" -g "$(id -g "$STACK_USER")" /dev/null "$SW_DIR/s3.json"
	cat >"$SW_DIR/s3.json" <<EOF
{
  "identities": [
    {
      "name": "fluxera",
      "credentials": [{"accessKey": "$SW_ACCESS_KEY", "secretKey": "$SW_SECRET_KEY"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
}

seaweedfs_start() {
	seaweedfs_install
	seaweedfs_configure
	say "seaweedfs: starting S3 on 127.0.0.1:$SW_S3_PORT"
	stack_file "$LOG_DIR/seaweedfs.log"
	# Every listener on loopback, telemetry off, the optional gateways
	# (Iceberg, Lance, IAM, metrics, debug) not served. The subshell is not
	# a process group leader, so setsid, setpriv and env exec in place and
	# $! is the server's pid.
	(cd "$SW_DIR" && raise_nofile && exec setsid setpriv --reuid="$STACK_USER" --regid="$(id -g "$STACK_USER")" \
		--init-groups -- env HOME="$SW_DIR" USER="$STACK_USER" LOGNAME="$STACK_USER" \
		"$SW_DIR/weed-$SW_VERSION" -logtostderr server \
		-ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$SW_DIR/data" -volume.max=16 -volume.minFreeSpace=1GiB \
		-master.port="$SW_MASTER_PORT" -master.port.grpc="$SW_MASTER_GRPC_PORT" \
		-master.volumeSizeLimitMB=64 -master.telemetry=false -master.telemetry.url= \
		-volume.port="$SW_VOLUME_PORT" -volume.port.grpc="$SW_VOLUME_GRPC_PORT" \
		-filer.port="$SW_FILER_PORT" -filer.port.grpc="$SW_FILER_GRPC_PORT" \
		-filer.localSocket="$SW_DIR/run/filer.sock" \
		-s3 -s3.port="$SW_S3_PORT" -s3.port.grpc="$SW_S3_GRPC_PORT" -s3.port.iceberg=0 -s3.port.lance=0 \
		-s3.config="$SW_DIR/s3.json" -s3.localSocket="$SW_DIR/run/s3.sock" -s3.iam=false) \
		</dev/null >>"$LOG_DIR/seaweedfs.log" 2>&1 &
	echo $! >"$RUN_DIR/seaweedfs.pid"
}

# ---------------------------------------------------------------- commands

timeout_for() {
	case $1 in
	opensearch) echo 180 ;;
	kafka | seaweedfs) echo 120 ;;
	*) echo 60 ;;
	esac
}

# Waits until the service answers; fails with its log tail on timeout or if
# the process dies.
wait_ready() {
	local svc=$1 limit
	limit=$(timeout_for "$svc")
	local deadline=$((SECONDS + limit))
	while :; do
		if "${svc}_healthy" && { [[ $svc != kafka ]] || kafka_started; }; then
			return 0
		fi
		"${svc}_pid" >/dev/null || fail_with_log "$svc" "the process exited during startup"
		((SECONDS < deadline)) || fail_with_log "$svc" "not healthy after ${limit}s"
		sleep 1
	done
}

# Starts the named services (all of them when none is named) unless they
# run already, and waits until every one of them answers.
cmd_up() {
	require_root up
	local begin=$SECONDS svc port state to_start=() wanted=()
	for svc in "${SERVICES[@]}"; do
		if (($# == 0)) || [[ " $* " == *" $svc "* ]]; then
			wanted+=("$svc")
		fi
	done
	ensure_user
	ensure_layout
	ensure_packages
	find_java17

	# Check every port before starting anything.
	for svc in "${wanted[@]}"; do
		if "${svc}_pid" >/dev/null; then
			continue
		fi
		for port in $("${svc}_ports"); do
			! port_taken "$port" ||
				die "port $port is in use by another process (not this stack's $svc); stop it first"
		done
		to_start+=("$svc")
	done

	# A service whose first install takes minutes (SeaweedFS builds from
	# source) installs in the background while the others start.
	local installing=() install_jobs=() i
	for svc in "${to_start[@]}"; do
		if declare -F "${svc}_installed" >/dev/null && ! "${svc}_installed"; then
			"${svc}_install" &
			install_jobs+=($!)
			installing+=("$svc")
		fi
	done
	for svc in "${to_start[@]}"; do
		[[ " ${installing[*]} " == *" $svc "* ]] || "${svc}_start"
	done
	for i in "${!installing[@]}"; do
		wait "${install_jobs[$i]}" || die "installing ${installing[$i]} failed"
		"${installing[$i]}_start"
	done

	for svc in "${wanted[@]}"; do
		wait_ready "$svc"
	done

	for svc in "${wanted[@]}"; do
		if [[ " ${to_start[*]} " == *" $svc "* ]]; then state=started; else state="already running"; fi
		printf 'stack: %-10s ready  %-55s pid %-7s %s\n' "$svc" "$("${svc}_addr")" "$("${svc}_pid")" "$state"
	done
	say "logs in $LOG_DIR; up took $((SECONDS - begin))s"
}

# Stops one service: a polite signal first, SIGKILL after 60 s.
stop_service() {
	local svc=$1 pid sig=TERM i
	if ! pid=$("${svc}_pid"); then
		echo "stack: $svc already stopped"
		[[ $svc == postgres ]] || rm -f "$RUN_DIR/$svc.pid"
		return 0
	fi
	[[ $svc == postgres ]] && sig=INT # PostgreSQL's "fast" shutdown
	kill -s "$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "stack: $svc did not stop within 60s; killing it" >&2
		kill -s KILL "$pid" 2>/dev/null || true
		sleep 1
	fi
	[[ $svc == postgres ]] || rm -f "$RUN_DIR/$svc.pid"
	echo "stack: $svc stopped"
}

# Stops the named services (all of them when none is named), in parallel.
cmd_down() {
	require_root down
	local svc jobs=()
	for svc in "${SERVICES[@]}"; do
		(($# == 0)) || [[ " $* " == *" $svc "* ]] || continue
		stop_service "$svc" &
		jobs+=($!)
	done
	local rc=0 job
	for job in "${jobs[@]}"; do
		wait "$job" || rc=1
	done
	return $rc
}

cmd_status() {
	local svc pid state
	for svc in "${SERVICES[@]}"; do
		if pid=$("${svc}_pid"); then
			state=running
			"${svc}_healthy" || state="running (not answering yet)"
			printf '%-10s %-28s %-55s pid %s\n' "$svc" "$state" "$("${svc}_addr")" "$pid"
		else
			printf '%-10s %-28s %s\n' "$svc" stopped "$("${svc}_addr")"
		fi
	done
	echo "logs: $LOG_DIR"
}

cmd_env() {
	cat <<EOF
export FLUXERA_DATABASE_URL=postgres://fluxera:fluxera@127.0.0.1:$PG_PORT/fluxera?sslmode=disable
export FLUXERA_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export FLUXERA_OPENSEARCH_URL=http://127.0.0.1:$OS_HTTP_PORT
export FLUXERA_REDIS_ADDR=127.0.0.1:$REDIS_PORT
export FLUXERA_COOKIE_SECURE=false
export FLUXERA_S3_ENDPOINT=127.0.0.1:$SW_S3_PORT
export FLUXERA_S3_ACCESS_KEY=$SW_ACCESS_KEY
export FLUXERA_S3_SECRET_KEY=$SW_SECRET_KEY
export FLUXERA_S3_REGION=$SW_REGION
export FLUXERA_S3_SECURE=false
EOF
}

usage() {
	echo "usage: $0 up|down|status|env, or $0 start|stop SERVICE... (services: ${SERVICES[*]})" >&2
	exit 2
}

# Checks that every argument names a service of the stack.
known_services() {
	local svc
	(($# > 0)) || usage
	for svc in "$@"; do
		[[ " ${SERVICES[*]} " == *" $svc "* ]] || usage
	done
}

(($# >= 1)) || usage
verb=$1
shift
case $verb in
up | down | status | env) (($# == 0)) || usage ;;
start | stop) known_services "$@" ;;
*) usage ;;
esac
case $verb in
up) cmd_up ;;
down) cmd_down ;;
start) cmd_up "$@" ;;
stop) cmd_down "$@" ;;
status) cmd_status ;;
env) cmd_env ;;
esac
