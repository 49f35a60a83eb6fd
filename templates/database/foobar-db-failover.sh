#!/bin/sh
# foobar-db-failover: the steps of playbooks/db-failover.yml that read or change MariaDB, run as
# root on a database host (installed by the database role; managed by foobar-provision).
#
#   check   SELF PORT FORCE HOSTS        on the new primary: has it received every transaction of
#                                        the primary it replicates from? (reads only; runs in plan too)
#   fence   SELF APP_USER                on the old primary: read_only=1, the app's sessions killed
#   promote SELF PORT FORCE WAIT HOSTS   on the new primary: apply what it received, stop
#                                        replicating, read_only=0
#   rejoin  SELF NEW NEW_ADDR PORT       on the old primary: ready to replicate from the new one
#                                        (GTID slave_pos = what its own binary log holds)
#
# The old primary is the server the new primary replicates from (SHOW SLAVE STATUS), not a name
# given: HOSTS ("db1=10.0.0.41 db2=10.0.0.42") only names it in messages.
# check, promote and rejoin read the other server over the network as the replication account,
# whose [client] option lines (user, password) arrive on stdin: never on a command line.
# A refusal is one line on stderr (the tool shows the last one) and exit 1.
set -u

fail() { echo "$*" >&2; exit 1; }
q() { mysql -N -B -e "$1"; }
slave_status() { mysql -e 'SHOW SLAVE STATUS\G'; }
field() { printf '%s\n' "$STATUS" | sed -nE "s/^ *$1: ?(.*)$/\\1/p" | head -n 1; }
clean() { printf '%s' "$1" | tr -d ' \t\r\n'; }

# A GTID position or state ("0-41-18,1-42-5") read from a server, whitespace dropped; anything
# else is refused here, before it reaches SQL (a server answering on the old primary's address is
# not trusted to send only positions) or counts as "nothing missing". $1 says whose it is.
gtid_pos() {
  p=$(clean "$2")
  case $p in *[!0-9,-]*) fail "$1 is not a GTID position ($(printf '%s' "$p" | head -c 80)): refused, nothing changed" ;; esac
  printf '%s' "$p"
}

# Transactions of position $1 that position $2 lacks. Keys are the GTID domain ($3 = d) or the
# domain and server id ($3 = ds, for gtid_binlog_state: whose writes are missing).
gtid_missing() {
  awk -v want="$(clean "$1")" -v have="$(clean "$2")" -v keys="$3" 'BEGIN {
    n = split(have, h, ","); for (i = 1; i <= n; i++) if (split(h[i], p, "-") == 3) seen[keys == "d" ? p[1] : p[1] "-" p[2]] = p[3] + 0
    m = split(want, w, ","); missing = 0
    for (i = 1; i <= m; i++) {
      if (split(w[i], p, "-") != 3) continue
      k = keys == "d" ? p[1] : p[1] "-" p[2]; s = (k in seen) ? seen[k] : 0
      if (p[3] + 0 > s) missing += p[3] - s
    }
    print missing }'
}

# The other server, as the replication account (options from stdin, in a private temp file).
OPTS=''
remote_init() {
  OPTS=$(mktemp) || fail 'cannot make a temp file'
  trap 'rm -f "$OPTS"' EXIT HUP INT TERM
  cat >"$OPTS"
}
# Where this server speaks TLS (the tls role's CA in its config), so does the other: verify it.
rq() {
  ca=$(q 'SELECT IF(@@have_ssl = "YES", @@ssl_ca, "")' 2>/dev/null)
  if [ -n "$ca" ]; then
    mysql --defaults-extra-file="$OPTS" --connect-timeout=3 --ssl-ca="$ca" --ssl-verify-server-cert -h "$1" -P "$2" -N -B -e "$3" 2>&1
  else
    mysql --defaults-extra-file="$OPTS" --connect-timeout=3 -h "$1" -P "$2" -N -B -e "$3" 2>&1
  fi
}

name_of() {
  for pair in $HOSTS; do [ "${pair#*=}" = "$1" ] && { echo "${pair%%=*}"; return; }; done
  echo "$1"
}

mariadb_down() { ! mysqladmin ping >/dev/null 2>&1; }

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
check)
  SELF=$1 PORT=$2 FORCE=$3 HOSTS=$4
  remote_init
  STATUS=$(slave_status) || fail "$SELF: MariaDB does not answer"
  if [ -z "$STATUS" ]; then
    [ "$(q 'SELECT @@read_only')" = 0 ] || fail "$SELF replicates from no primary and is read-only: it is not a replica that can take over; refused, nothing changed"
    echo "$SELF is the primary already (no replication, read_only=0): nothing to check"; exit 0
  fi
  OLD_ADDR=$(field Master_Host); OLD=$(name_of "$OLD_ADDR")
  received=$(gtid_pos "$SELF's Gtid_IO_Pos" "$(field Gtid_IO_Pos)") || exit 1
  applied=$(gtid_pos "$SELF's gtid_slave_pos" "$(q 'SELECT @@gtid_slave_pos')") || exit 1
  threads="IO $(field Slave_IO_Running), SQL $(field Slave_SQL_Running)"
  if ! old=$(rq "$OLD_ADDR" "$PORT" 'SELECT @@gtid_binlog_pos'); then
    why=$(printf '%s' "$old" | tail -n 1)
    [ "$FORCE" = true ] || fail "old primary $OLD ($OLD_ADDR:$PORT) does not answer ($why): whether $SELF has every write cannot be checked ($SELF received $received, applied $applied); refused, nothing changed. To fail over anyway, losing what $SELF never received: --var force=true"
    unapplied=$(gtid_missing "$received" "$applied" d)
    [ "$unapplied" = 0 ] || [ "$(field Slave_SQL_Running)" = Yes ] || fail "$SELF has $unapplied received transaction(s) not applied and its SQL thread is stopped ($(field Last_SQL_Error)): refused, nothing changed"
    echo "old primary $OLD does not answer ($why); going on because force=true: $SELF received $received, applied $applied"; exit 0
  fi
  old=$(gtid_pos "the answer of $OLD ($OLD_ADDR) to @@gtid_binlog_pos" "$old") || exit 1
  missing=$(gtid_missing "$old" "$received" d)
  [ "$missing" = 0 ] || fail "$SELF is $missing transaction(s) behind $OLD: $OLD wrote up to $old, $SELF received $received and applied $applied ($threads); refused, nothing changed. Let replication catch up (START SLAVE on $SELF) and run again"
  unapplied=$(gtid_missing "$old" "$applied" d)
  [ "$unapplied" = 0 ] || [ "$(field Slave_SQL_Running)" = Yes ] || fail "$SELF received every transaction of $OLD but has not applied $unapplied of them and its SQL thread is stopped ($(field Last_SQL_Error)): refused, nothing changed. START SLAVE SQL_THREAD on $SELF and run again"
  echo "$SELF has received every transaction of $OLD (up to $old; applied $applied)"
  ;;
fence)
  SELF=$1 APP_USER=$2
  # The name goes into a SQL string: a MariaDB user name of the usual characters only.
  case $APP_USER in '' | *[!A-Za-z0-9_.-]*) fail "the app user name ($APP_USER) is not letters, digits, _ . -: $SELF not fenced" ;; esac
  if mariadb_down; then echo "$SELF: MariaDB is not running: nothing to fence (its config now starts it read-only)"; exit 0; fi
  was=$(q 'SELECT @@read_only')
  q 'SET GLOBAL read_only = 1' || fail "$SELF: could not set read_only"
  killed=0
  for id in $(q "SELECT id FROM information_schema.processlist WHERE user = '$APP_USER'"); do
    mysql -e "KILL CONNECTION $id" 2>/dev/null && killed=$((killed + 1))
  done
  echo "$SELF fenced: read_only $was -> 1, $killed session(s) of $APP_USER killed"
  ;;
promote)
  SELF=$1 PORT=$2 FORCE=$3 WAIT=$4 HOSTS=$5
  case $WAIT in '' | *[!0-9]*) fail "WAIT must be a whole number of seconds: $SELF not promoted" ;; esac
  remote_init
  STATUS=$(slave_status) || fail "$SELF: MariaDB does not answer"
  if [ -z "$STATUS" ] && [ "$(q 'SELECT @@read_only')" = 0 ]; then echo "$SELF is the primary already"; exit 0; fi
  [ -n "$STATUS" ] || fail "$SELF replicates from no primary and is read-only: not promoted"
  OLD_ADDR=$(field Master_Host); OLD=$(name_of "$OLD_ADDR")
  if old=$(rq "$OLD_ADDR" "$PORT" 'SELECT @@read_only, @@gtid_binlog_pos'); then
    set -f; set -- $old; set +f
    [ "${1:-}" = 1 ] || fail "old primary $OLD still accepts writes (read_only=${1:-?}): it was not fenced; $SELF not promoted"
    target=$(gtid_pos "the answer of $OLD ($OLD_ADDR) to @@gtid_binlog_pos" "${2:-}") || exit 1
    [ $# -le 2 ] || fail "the answer of $OLD ($OLD_ADDR) is not read_only and one GTID position: $SELF not promoted"
  else
    [ "$FORCE" = true ] || fail "old primary $OLD ($OLD_ADDR:$PORT) does not answer and force is not true: $SELF not promoted"
    target=$(gtid_pos "$SELF's Gtid_IO_Pos" "$(field Gtid_IO_Pos)") || exit 1
  fi
  # Everything received is applied before the first write of its own.
  [ "$(q "SELECT MASTER_GTID_WAIT('$target', $WAIT)")" = 0 ] || fail "$SELF did not apply up to $target within $WAIT s (applied $(q 'SELECT @@gtid_slave_pos')): not promoted"
  q 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0' || fail "$SELF: promotion failed half-way; run again"
  echo "$SELF promoted: replication from $OLD removed, read_only=0, applied up to ${target:-nothing}"
  ;;
rejoin)
  SELF=$1 NEW=$2 NEW_ADDR=$3 PORT=$4
  remote_init
  STATUS=$(slave_status) || fail "$SELF: MariaDB does not answer"
  if [ "$(field Master_Host)" = "$NEW_ADDR" ]; then echo "$SELF replicates from $NEW already"; exit 0; fi
  theirs=$(rq "$NEW_ADDR" "$PORT" 'SELECT @@gtid_binlog_state') || fail "new primary $NEW ($NEW_ADDR:$PORT) does not answer ($(printf '%s' "$theirs" | tail -n 1)): $SELF stays fenced, not a replica yet; run again"
  theirs=$(gtid_pos "the answer of $NEW ($NEW_ADDR) to @@gtid_binlog_state" "$theirs") || exit 1
  mine=$(q 'SELECT @@gtid_binlog_state')
  errant=$(gtid_missing "$mine" "$theirs" ds)
  [ "$errant" = 0 ] || fail "$SELF has $errant transaction(s) that $NEW never received ($SELF binlog $mine, $NEW binlog $theirs): $SELF stays read-only and is not made a replica; compare the data, then rebuild $SELF from $NEW"
  q 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 1; SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos' || fail "$SELF: could not reset its replication position"
  echo "$SELF ready to replicate from $NEW from $(q 'SELECT @@gtid_slave_pos')"
  ;;
gtid-missing)
  # For tests and operators: how many transactions of position $1 position $2 lacks.
  gtid_missing "$1" "$2" "${3:-d}"
  ;;
*)
  fail "usage: foobar-db-failover check|fence|promote|rejoin ..."
  ;;
esac
