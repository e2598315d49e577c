#!/usr/bin/env bash
# Make sure what the tests talk to is there: Debian's Chromium, PostgreSQL, Redis and RabbitMQ on
# 127.0.0.1, and the tools of the scale-out test bed (HAProxy, socat, ip).
# Uses running servers when they answer; otherwise starts the installed ones, installing the Debian
# packages first when they are missing and we are root. Never downloads a browser or a toolchain.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_PORT=6379 AMQP_PORT=5672

say() { printf '[services] %s\n' "$*"; }

apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    say "missing $*: install it (sudo apt-get install $*) or run as root"; exit 1
  fi
  [[ -n ${APT_UPDATED:-} ]] || { apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # wait_for <description> <command...>
  local what=$1; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  say "$what did not come up"; exit 1
}

# Chromium for the browser tests (Debian's build at /usr/bin/chromium).
if [[ ! -x /usr/bin/chromium ]]; then
  say "installing Debian's chromium"
  apt_install chromium
fi

# PostgreSQL.
command -v pg_isready >/dev/null || apt_install postgresql postgresql-client
if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  [[ -n $(ls /etc/postgresql 2>/dev/null) ]] || apt_install postgresql
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  wait_for PostgreSQL pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
fi
say "PostgreSQL answers on $PG_HOST:$PG_PORT"

# Redis.
command -v redis-cli >/dev/null || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
fi
say "Redis answers on 127.0.0.1:$REDIS_PORT"

# RabbitMQ: the broker that hands a dead worker's task straight to another (the kill -9 test).
amqp_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; }
if ! amqp_answers; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  say "starting RabbitMQ"
  rabbitmq-server -detached
  wait_for RabbitMQ amqp_answers
fi
say "RabbitMQ answers on 127.0.0.1:$AMQP_PORT"

# The scale-out test bed (tests/scale_out): HAProxy in front of two hosts, socat forwarders to the
# services above, network namespaces made with ip. Installed here, started by the tests themselves.
for tool in haproxy:haproxy socat:socat ip:iproute2; do
  command -v "${tool%%:*}" >/dev/null || apt_install "${tool##*:}"
done
say "haproxy, socat and ip are installed"
