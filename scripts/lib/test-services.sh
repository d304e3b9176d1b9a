# Throwaway PostgreSQL cluster and redis-server for the test suite, on free loopback ports. Sourced by scripts/test.
# start_test_services exports HEALTHD_TEST_PG_CONNINFO, HEALTHD_TEST_PG_PORT, HEALTHD_TEST_REDIS_PORT;
# stop_test_services tears both down (safe to call twice, and on a half-started state).

services_dir=""
pg_bin=""

as_postgres() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  echo "test-services: no free port found" >&2
  return 1
}

start_test_services() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  services_dir=$(mktemp -d /tmp/healthd-test-services.XXXXXX)
  chmod 755 "$services_dir"
  mkdir -p "$services_dir/pg"
  ((EUID == 0)) && chown postgres: "$services_dir/pg"

  local pg_port redis_port
  pg_port=$(free_port)
  as_postgres "$pg_bin/initdb" -D "$services_dir/pg/data" -A trust -U postgres >"$services_dir/pg/initdb.log" 2>&1 ||
    { cat "$services_dir/pg/initdb.log" >&2; return 1; }
  as_postgres "$pg_bin/pg_ctl" -D "$services_dir/pg/data" -l "$services_dir/pg/server.log" -w -t 30 \
    -o "-p $pg_port -k $services_dir/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    { cat "$services_dir/pg/server.log" >&2; return 1; }

  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$services_dir/redis.pid" --dir "$services_dir" --logfile "$services_dir/redis.log"
  for _ in $(seq 1 100); do
    [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]] && break
    sleep 0.05
  done
  [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]] ||
    { echo "test-services: redis-server did not answer PING" >&2; cat "$services_dir/redis.log" >&2; return 1; }

  export HEALTHD_TEST_PG_PORT=$pg_port
  export HEALTHD_TEST_PG_CONNINFO="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
  export HEALTHD_TEST_REDIS_PORT=$redis_port
  echo "test-services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port" >&2
}

stop_test_services() {
  [[ -n "$services_dir" && -d "$services_dir" ]] || return 0
  if [[ -n "${HEALTHD_TEST_REDIS_PORT:-}" ]]; then
    redis-cli -p "$HEALTHD_TEST_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [[ -f "$services_dir/pg/data/postmaster.pid" ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$services_dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$services_dir"
  services_dir=""
}
