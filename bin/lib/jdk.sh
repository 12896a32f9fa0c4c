# Sourced by bin/* scripts: finds a JDK >= 25 and sets MW_JAVA_HOME.
# Order: $MEMWARDEN_JAVA_HOME, $JAVA_HOME, then the newest JDK under /usr/lib/jvm.
# No manual export is needed on a machine with a JDK 25 under /usr/lib/jvm.

mw_java_major() { # $1 = JAVA_HOME; prints the feature version or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -r "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  printf '%s' "$v"
}

mw_find_jdk() {
  local want=25 cand best="" bestv=0 v
  for cand in "${MEMWARDEN_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
    [ -n "$cand" ] || continue
    v=$(mw_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$want" ] && [ -x "$cand/bin/javac" ]; then
      MW_JAVA_HOME=$cand; return 0
    fi
  done
  for cand in /usr/lib/jvm/*; do
    [ -d "$cand" ] && [ ! -L "$cand" ] || continue
    v=$(mw_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$want" ] && [ "$v" -gt "$bestv" ] && [ -x "$cand/bin/javac" ]; then
      best=$cand; bestv=$v
    fi
  done
  if [ -z "$best" ]; then
    echo "memwarden: no JDK >= $want found (looked at \$MEMWARDEN_JAVA_HOME, \$JAVA_HOME, /usr/lib/jvm/*)." >&2
    echo "memwarden: install one (e.g. Temurin 25) under /usr/lib/jvm or set MEMWARDEN_JAVA_HOME." >&2
    return 1
  fi
  MW_JAVA_HOME=$best
}

# Runs Maven with the JDK found above; all build output goes to stderr.
mw_mvn() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "memwarden: Maven (mvn) is not on PATH; install it (Debian: apt-get install maven)." >&2
    return 1
  fi
  JAVA_HOME=$MW_JAVA_HOME mvn -B -ntp "$@"
}
