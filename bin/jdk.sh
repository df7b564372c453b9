# Sourced by the scripts in bin/ and .ci/: finds a JDK >= 25 and builds the project when needed.
# JAVA_HOME first, then the JDKs under /usr/lib/jvm; fails with a clear message when there is none.
# The same file serves the source tree (builds when needed, classpaths from target/) and the daemon
# distribution (bin/ and lib/ only: nothing to build, every jar in lib/). Symlinks are resolved, so a
# launcher linked from a directory on PATH finds its tree.

vineyard_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

# True in the distribution: jars in lib/, no sources.
is_distribution() {
  [ -d "$vineyard_root/lib" ] && [ ! -f "$vineyard_root/pom.xml" ]
}

java_major() { # prints the major version of the java binary $1
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}

find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/*; do [ -d "$d" ] && candidates+=("$d"); done
  for home in "${candidates[@]}"; do
    if [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ]; then
      local v
      v="$(java_major "$home/bin/java")"
      if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
        export JAVA_HOME="$home"
        export PATH="$JAVA_HOME/bin:$PATH"
        # Maven's own guava calls sun.misc.Unsafe: allowed quietly on this JDK
        export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
        return 0
      fi
    fi
  done
  echo "vineyard-java needs a JDK >= 25, and found none (JAVA_HOME=${JAVA_HOME:-unset}; looked in /usr/lib/jvm)." >&2
  echo "Install one (for example Temurin 25) and point JAVA_HOME at it." >&2
  return 1
}

# Builds the jars and the runtime classpath when a source or pom is newer than the last build.
build_if_needed() {
  is_distribution && return 0
  local stamp="$vineyard_root/target/.built"
  if [ -f "$stamp" ] && [ -z "$(find "$vineyard_root" -path "$vineyard_root/target" -prune -o \
        \( -name '*.java' -o -name 'pom.xml' \) -newer "$stamp" -print -quit 2>/dev/null | grep -v /target/)" ]; then
    return 0
  fi
  echo "building vineyard-java (mvn package, tests skipped)..." >&2
  maven_build -q -DskipTests package >&2 || return 1
}

# Runs Maven on the whole project with the given goals and flags, also writing each module's runtime
# classpath (target/classpath.txt, used by the scripts here); marks the build as fresh on success.
maven_build() {
  (cd "$vineyard_root" && mvn -B -ntp -Dstyle.color=never "$@" dependency:build-classpath \
      -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime) || return 1
  mkdir -p "$vineyard_root/target" && touch "$vineyard_root/target/.built"
}

# Waits (at most $3 tenths of a second) until the daemon with PID $2, logging to $1, printed its ready
# line; when it died or never got there, prints its log to stderr and fails.
await_ready() {
  local log="$1" pid="$2" tenths="$3"
  for _ in $(seq "$tenths"); do
    grep -q "vineyardd ready" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "vineyardd ready" "$log" 2>/dev/null && return 0
  echo "vineyardd did not start:" >&2
  cat "$log" >&2
  return 1
}

# The runtime classpath of module $1 (its jar plus its dependencies; in the distribution, lib/).
module_classpath() {
  if is_distribution; then
    # lib/ holds two SLF4J providers (the daemon's logback, the tools' nop, also named in vineyard-ctl's
    # manifest Class-Path): the daemon takes logback only
    case "$1" in
      vineyard-server|vineyard-k8s) ls "$vineyard_root"/lib/*.jar | grep -v -e '/slf4j-nop-' -e '/vineyard-ctl-' | paste -sd: - ;;
      *) echo "$vineyard_root/lib/*" ;;
    esac
    return 0
  fi
  local m="$vineyard_root/$1"
  local jar
  jar="$(ls "$m"/target/"$1"-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -1)"
  echo "$jar:$(cat "$m/target/classpath.txt")"
}

JVM_FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
