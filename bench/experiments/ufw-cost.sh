#!/bin/bash
# What the ufw part of a first converge costs on a lab host: the rules added one `ufw` call at a
# time and then enabled (what the ufw module does today), against the same user.rules files
# written directly and one `ufw --force enable`. Run as root on a bench host, e.g.
#   ssh -i KEY -o UserKnownHostsFile=bench/out/bench-1.known_hosts deploy@10.214.0.11 sudo bash -s < bench/experiments/ufw-cost.sh
# Prints "variant real user sys" (seconds, user and sys include the children) per try.
set -u
admin=10.214.0.1
TIMEFORMAT='%R %U %S'
reset() { ufw --force reset >/dev/null; rm -f /etc/ufw/*.rules.20*; }
for try in 1 2 3; do
  reset
  t=$( { time {
    ufw allow from "$admin" to any port 22 proto tcp comment 'ssh from the controller' >/dev/null
    ufw allow from any to any port 80 proto tcp comment http >/dev/null
    ufw allow from "$admin" to any port 9100 proto tcp comment 'node exporter' >/dev/null
    ufw --force enable >/dev/null
  }; } 2>&1 )
  echo "cli-per-rule $t"
  cp /etc/ufw/user.rules /tmp/user.rules.want
  cp /etc/ufw/user6.rules /tmp/user6.rules.want
  reset
  t=$( { time {
    cp /tmp/user.rules.want /etc/ufw/user.rules
    cp /tmp/user6.rules.want /etc/ufw/user6.rules
    ufw --force enable >/dev/null
  }; } 2>&1 )
  echo "files-then-enable $t"
  t=$( { time ufw status verbose >/dev/null; } 2>&1 )
  echo "status-verbose $t"
done
reset
rm -f /tmp/user.rules.want /tmp/user6.rules.want
