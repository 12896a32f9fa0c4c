#!/usr/bin/env bash
# Builds an OCI image archive (OCI image layout in a tar: oci-layout, index.json, blobs/sha256/...) holding a
# one-layer rootfs with a static busybox and its applet symlinks, for `ctr images import`. No registry involved.
#
# usage: build-busybox-image.sh BUSYBOX OUT.tar IMAGE-NAME [ENTRYPOINT-ARG...]
#   BUSYBOX     a statically linked busybox binary (Debian's busybox-static: usr/bin/busybox)
#   IMAGE-NAME  full reference, e.g. docker.io/memwarden/busybox:e2e (io.containerd.image.name annotation)
#   the image's Cmd is the remaining arguments (default: sh)
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
busybox=$1 out=$2 name=$3; shift 3
[ $# -gt 0 ] || set -- sh
[ -x "$busybox" ] || { echo "build-busybox-image: $busybox is not executable" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/memwarden-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,etc,root,var/run} "$work/layout/blobs/sha256"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in sh ash cat cut dd echo env grep head id ls mkdir ps rm sleep tail true false tr wc awk sed test \
              seq cp mv uname free du; do
  ln -s busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

blob() { # blob FILE: moves FILE into blobs/sha256, prints "<digest> <size>"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$work/layout/blobs/sha256/$d"
  echo "$d $s"
}
json_array() { local a sep=""; printf '['; for a in "$@"; do printf '%s"%s"' "$sep" "${a//\"/\\\"}"; sep=,; done; printf ']'; }

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
read -r layer layer_size < <(blob "$work/layer.tar")
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"test/vm/build-busybox-image.sh"}]}' \
  "$(json_array "$@")" "$layer" >"$work/config.json"
read -r config config_size < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
read -r manifest manifest_size < <(blob "$work/manifest.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$name" "${name##*:}" >"$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/layout" -cf "$out" oci-layout index.json blobs
echo "$out: $name, manifest sha256:$manifest"
