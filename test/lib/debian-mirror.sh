# Sourced by the test tiers' fetch scripts (never run on its own).
# The machine's Debian mirror: the first URI whose suites include this machine's codename
# (deb822 .sources files and one-line .list files).
machine_mirror() {
  local codename f
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    case "$f" in
      *.sources)
        awk -v want="$codename" '
          function flush() { if (uris != "" && types ~ /(^| )deb( |$)/ && enabled != "no") {
                               n = split(suites, s, " "); for (i = 1; i <= n; i++) if (s[i] == want) { split(uris, u, " "); print u[1]; exit } }
                             uris = ""; suites = ""; types = ""; enabled = "" }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
            if (key == "uris") uris = val; else if (key == "suites") suites = val
            else if (key == "types") types = val; else if (key == "enabled") enabled = tolower(val) }
          END { flush() }' "$f"
        ;;
      *)
        awk -v want="$codename" '
          $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                        if ($(i + 1) == want) { print $i; exit } }' "$f"
        ;;
    esac
  done | head -n 1
}

