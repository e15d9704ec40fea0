#!/usr/bin/env bash
# Builds the bench's fixture base images from local materials only (nothing
# can be pulled from Docker Hub here) and makes them available in the bench
# registry under their Docker Hub paths, so that buildkitd (whose docker.io
# mirror is that registry) resolves them by their real names:
#
#   busybox:latest, busybox:1.36          Debian's busybox-static + applet links
#   debian:bookworm, debian:12            debootstrap --variant=minbase (+ca-certificates)
#   golang:1.26, golang:1.26-bookworm,    debian:bookworm + the machine's Go
#   golang:<full go version>              toolchain from `go env GOROOT`
#   node:18, node:18-bookworm             debian:bookworm + Debian's nodejs and npm
#   docker/buildkit-syft-scanner:stable-1 the SBOM scanner of scanner/ (syft)
#
# Two cache levels under $TOMLFRONT_CACHE/fixtures, keyed by their inputs:
#   rootfs/<name>-<key>.tar      root filesystems (debootstrap: the slow part)
#   images/<name>-<key>/registry registry storage (blobs + repository links)
#                                of the pushed image, copied into the running
#                                registry's storage on later bench starts
#
# Usage:
#   fixtures.sh rootfs   prepare the rootfs tarballs only (needs no daemons)
#   fixtures.sh [all]    make every fixture image available in the running
#                        bench's registry (needs up.sh's registry + buildkitd;
#                        up.sh calls this)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the way fixtures are made changes, to invalidate the cache.
FIXTURE_FORMAT=1
DEBIAN_SUITE=bookworm
DEBIAN_INCLUDE=ca-certificates

FIXTURES="$CACHE/fixtures"
mkdir -p "$FIXTURES/rootfs" "$FIXTURES/images"

sha() { sha256sum | cut -c1-16; }

# --- Official debian image apt configuration (debuerreotype) -----------------

docker_clean_conf() {
  cat <<'CONF'
# Since for most Docker users, package installs happen in "docker build" steps,
# they essentially become individual layers due to the way Docker handles
# layering, especially using CoW filesystems.  What this means for us is that
# the caches that APT keeps end up just wasting space in those layers, making
# our layers unnecessarily large (especially since we'll normally never use
# these caches again and will instead just "docker build" again and make a brand
# new image).

# Ideally, these would just be invoking "apt-get clean", but in our testing,
# that ended up being cyclic and we got stuck on APT's lock, so we get this fun
# creation that's essentially just "apt-get clean".
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };

Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";

# Note that we do realize this isn't the ideal way to do this, and are always
# open to better suggestions (https://github.com/debuerreotype/debuerreotype/issues).
CONF
}

docker_gzip_indexes_conf() {
  printf '%s\n' '# Keep apt lists compressed on disk, as the official image does.' 'Acquire::GzipIndexes "true";'
}
docker_no_languages_conf() {
  printf '%s\n' '# No translation files, as in the official image.' 'Acquire::Languages "none";'
}
docker_autoremove_suggests_conf() {
  printf '%s\n' '# As in the official image: autoremove what only Suggests keep.' 'Apt::AutoRemove::SuggestsImportant "false";'
}

# host_apt_sources prints the paths of the machine's apt source files that use
# the machine's Debian mirror, so the image's apt uses the same mirror.
host_apt_sources() {
  local mirror f
  mirror=$(apt_mirror)
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [[ -f $f ]] && grep -qF "$mirror" "$f" && echo "$f"
  done
  return 0
}

# host_apt_acquire_confs prints the machine's apt.conf.d files that set
# Acquire:: options about how to reach a mirror (a proxy, or
# Check-Valid-Until for a snapshot mirror): the image needs them to reach the
# same mirror the same way.
host_apt_acquire_confs() {
  local f
  for f in /etc/apt/apt.conf.d/*; do
    [[ -f $f ]] || continue
    case "$(basename "$f")" in docker-*) continue ;; esac
    grep -Eq '^[[:space:]]*Acquire::(https?|ftp|socks|Check-Valid-Until|Check-Date|Max-ValidTime|Min-ValidTime|Retries)([:[:space:]{]|$)' "$f" && echo "$f"
  done
  return 0
}

# --- keys --------------------------------------------------------------------

busybox_rootfs_key() {
  { echo "busybox $FIXTURE_FORMAT"; sha256sum </bin/busybox; } | sha
}

debian_rootfs_key() {
  local f
  {
    echo "debian $FIXTURE_FORMAT $DEBIAN_SUITE $DEBIAN_INCLUDE $(go_arch)"
    apt_mirror
    dpkg-query -W -f='${Version}\n' debootstrap
    docker_clean_conf; docker_gzip_indexes_conf; docker_no_languages_conf; docker_autoremove_suggests_conf
    for f in $(host_apt_sources) $(host_apt_acquire_confs); do echo "$f"; cat "$f"; done
  } | sha
}

go_version() { go env GOVERSION | sed 's/^go//'; }

# debian_pkg_versions PKG...: the versions of PKGs that the machine's Debian
# sources (the ones the debian fixture copies) offer, as `apt-cache madison`
# lines; other sources (e.g. a vendor's nodejs repo) are left out.
debian_pkg_versions() {
  local uris
  uris=$(for f in $(host_apt_sources); do
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
         $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
  done | sort -u)
  [[ -n $uris ]] || die "no Debian apt sources found"
  apt-cache madison "$@" | grep -F "$uris" | sed 's/^ *//' | sort
}

# debian_node_major prints the major version of Debian's nodejs (18 on
# bookworm), from the machine's apt lists.
debian_node_major() {
  local v
  v=$(debian_pkg_versions nodejs | awk -F' *[|] *' '$1 == "nodejs" { print $2 }' | sort -V | tail -n1)
  [[ $v =~ ^([0-9]+:)?([0-9]+)\. ]] || die "cannot tell Debian's nodejs version (apt-cache madison nodejs: '$v'); run apt-get update"
  echo "${BASH_REMATCH[2]}"
}

golang_tar_key() {
  { echo "golang $FIXTURE_FORMAT"; go env GOROOT; go version; } | sha
}

# --- rootfs builders -----------------------------------------------------------

# busybox_rootfs OUT.tar: /bin/busybox from busybox-static plus a symlink
# for each applet (what `busybox --install -s` does, without needing chroot).
busybox_rootfs() {
  local out=$1 dir applet
  dir=$(mktemp -d "$FIXTURES/tmp.busybox.XXXXXX")
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/spool/mail,home,dev,proc,sys}
  chmod 1777 "$dir/tmp"
  chmod 700 "$dir/root"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list-full); do
    [[ $applet == bin/busybox ]] && continue
    mkdir -p "$dir/$(dirname "$applet")"
    ln -sf /bin/busybox "$dir/$applet"
  done
  cat >"$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
  cat >"$dir/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
G
  tar --numeric-owner -C "$dir" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$dir"
}

# debian_rootfs OUT.tar: debootstrap minbase from the machine's mirror, with
# the official image's apt configuration and the machine's apt sources.
debian_rootfs() {
  local out=$1 dir mirror f
  mirror=$(apt_mirror)
  dir=$(mktemp -d "$FIXTURES/tmp.debian.XXXXXX")
  log "debootstrap --variant=minbase $DEBIAN_SUITE (a few minutes; log: $dir.log)"
  if ! debootstrap --variant=minbase --include="$DEBIAN_INCLUDE" --arch="$(go_arch)" \
      "$DEBIAN_SUITE" "$dir/rootfs" "$mirror" >"$dir.log" 2>&1; then
    tail -n 30 "$dir.log" >&2
    die "debootstrap failed (full log: $dir.log)"
  fi
  local r="$dir/rootfs"
  # apt: the official image's docker-* configuration ...
  docker_clean_conf >"$r/etc/apt/apt.conf.d/docker-clean"
  docker_gzip_indexes_conf >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  docker_no_languages_conf >"$r/etc/apt/apt.conf.d/docker-no-languages"
  docker_autoremove_suggests_conf >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
  # ... and the machine's sources / Acquire options, so that apt inside the
  # image reaches the same mirror the machine uses.
  local sources
  sources=$(host_apt_sources)
  if [[ -n $sources ]]; then
    rm -f "$r/etc/apt/sources.list"
    for f in $sources; do
      if [[ $f == /etc/apt/sources.list ]]; then cp "$f" "$r/etc/apt/sources.list"
      else cp "$f" "$r/etc/apt/sources.list.d/"; fi
    done
  fi
  for f in $(host_apt_acquire_confs); do cp "$f" "$r/etc/apt/apt.conf.d/"; done
  # as debuerreotype does: no service starts in the image, no leftovers
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
    "$r"/var/cache/apt/archives/partial/* "$r"/var/log/apt/* "$r"/var/log/dpkg.log \
    "$r"/var/log/bootstrap.log "$r"/var/cache/ldconfig/aux-cache "$r"/tmp/* "$r"/root/.bash_history
  mkdir -p "$r/var/lib/apt/lists/partial"
  : >"$r/etc/resolv.conf"
  : >"$r/etc/hostname"
  : >"$r/etc/machine-id"
  # nothing may stay mounted inside (debootstrap unmounts, but be sure)
  grep -F " $r/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r umount -l
  tar --numeric-owner --xattrs -C "$r" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$dir" "$dir.log"
}

golang_tar() {
  local out=$1 goroot
  goroot=$(go env GOROOT)
  tar --numeric-owner -C "$(dirname "$goroot")" -cf "$out.tmp" \
    --transform "s,^$(basename "$goroot"),go," "$(basename "$goroot")"
  mv "$out.tmp" "$out"
}

ensure_rootfs() {
  local name=$1 key=$2 builder=$3 out
  out="$FIXTURES/rootfs/$name-$key.tar"
  if [[ -f $out ]]; then
    log "fixture rootfs $name cached: $out"
  else
    log "building fixture rootfs $name"
    rm -f "$FIXTURES/rootfs/$name-"*.tar
    "$builder" "$out"
  fi
  echo "$out"
}

# --- images --------------------------------------------------------------------

registry_storage() { echo "$STATE/registry"; }

# save_repo REPO DEST: copy REPO's links and every blob it references out of
# the running registry's storage into DEST (same layout).
save_repo() {
  local repo=$1 dest=$2 v2 d
  v2="$(registry_storage)/docker/registry/v2"
  mkdir -p "$dest/docker/registry/v2/repositories/$(dirname "$repo")" "$dest/docker/registry/v2/blobs/sha256"
  cp -a "$v2/repositories/$repo" "$dest/docker/registry/v2/repositories/$repo"
  rm -rf "$dest/docker/registry/v2/repositories/$repo/_uploads"
  local link
  for link in "$v2/repositories/$repo"/_layers/sha256/*/link "$v2/repositories/$repo"/_manifests/revisions/sha256/*/link; do
    [[ -f $link ]] || continue
    d=$(basename "$(dirname "$link")")
    [[ $d =~ ^[0-9a-f]{64}$ ]] || continue
    mkdir -p "$dest/docker/registry/v2/blobs/sha256/${d:0:2}"
    cp -a "$v2/blobs/sha256/${d:0:2}/$d" "$dest/docker/registry/v2/blobs/sha256/${d:0:2}/"
  done
}

# ensure_image NAME KEY TAGS CONTEXTDIR: import the cached registry storage
# for NAME/KEY, or build CONTEXTDIR's Dockerfile, push it as
# library/NAME:TAG for each TAG and cache the storage.
ensure_image() {
  local name=$1 key=$2 tags=$3 ctx=$4 repo=${5:-library/$1} cached names="" t
  cached="$FIXTURES/images/$name-$key"
  if [[ ! -f $cached/ok ]]; then
    log "building fixture image $name ($tags)"
    for t in $tags; do names+="${names:+,}$TOMLFRONT_REGISTRY/$repo:$t"; done
    buildctl --addr "$BUILDKIT_HOST" build --progress=plain \
      --frontend dockerfile.v0 --local context="$ctx" --local dockerfile="$ctx" \
      --output "type=image,\"name=$names\",push=true" >"$STATE/fixture-$name.log" 2>&1 \
      || { tail -n 40 "$STATE/fixture-$name.log" >&2; die "building fixture $name failed (log: $STATE/fixture-$name.log)"; }
    rm -rf "$cached.tmp" "$FIXTURES/images/$name-"*
    save_repo "$repo" "$cached.tmp/registry"
    echo "$tags" >"$cached.tmp/tags"
    touch "$cached.tmp/ok"
    mv "$cached.tmp" "$cached"
    log "fixture image $name cached: $cached"
  else
    cp -a "$cached/registry/." "$(registry_storage)/"
    log "fixture image $name imported from $cached"
  fi
}

all_rootfs() {
  BUSYBOX_TAR=$(ensure_rootfs busybox "$(busybox_rootfs_key)" busybox_rootfs)
  DEBIAN_TAR=$(ensure_rootfs debian "$(debian_rootfs_key)" debian_rootfs)
  GO_TAR=$(ensure_rootfs golang "$(golang_tar_key)" golang_tar)
}

all_images() {
  [[ -f $STATE/env.sh ]] || die "no running bench ($STATE/env.sh missing): run up.sh"
  # shellcheck source=/dev/null
  source "$STATE/env.sh"
  local ctx key gov
  ctx=$(mktemp -d "$FIXTURES/tmp.ctx.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT

  mkdir -p "$ctx/busybox"
  cat >"$ctx/busybox/Dockerfile" <<'DF'
FROM scratch
ADD rootfs.tar /
CMD ["sh"]
DF
  key=$({ echo "$BUILDKIT_VERSION $FIXTURE_FORMAT"; basename "$BUSYBOX_TAR"; cat "$ctx/busybox/Dockerfile"; } | sha)
  [[ -f $FIXTURES/images/busybox-$key/ok ]] || ln "$BUSYBOX_TAR" "$ctx/busybox/rootfs.tar" 2>/dev/null || cp "$BUSYBOX_TAR" "$ctx/busybox/rootfs.tar"
  ensure_image busybox "$key" "latest 1.36" "$ctx/busybox"

  mkdir -p "$ctx/debian"
  cat >"$ctx/debian/Dockerfile" <<'DF'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["bash"]
DF
  # The machine's own extra CA certificates (e.g. of an https-intercepting
  # egress proxy): without them `go mod download` in a container cannot
  # verify the module proxy. Added as their own layer, keyed by content.
  local crt
  for crt in /usr/local/share/ca-certificates/*.crt; do
    [[ -f $crt ]] || continue
    mkdir -p "$ctx/debian/local-ca"
    cp "$crt" "$ctx/debian/local-ca/"
  done
  if [[ -d $ctx/debian/local-ca ]]; then
    cat >>"$ctx/debian/Dockerfile" <<'DF'
COPY local-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
DF
  fi
  key=$({ echo "$BUILDKIT_VERSION $FIXTURE_FORMAT"; basename "$DEBIAN_TAR"; cat "$ctx/debian/Dockerfile"; cat "$ctx"/debian/local-ca/* 2>/dev/null || true; } | sha)
  local debian_key=$key
  [[ -f $FIXTURES/images/debian-$key/ok ]] || ln "$DEBIAN_TAR" "$ctx/debian/rootfs.tar" 2>/dev/null || cp "$DEBIAN_TAR" "$ctx/debian/rootfs.tar"
  ensure_image debian "$key" "$DEBIAN_SUITE 12" "$ctx/debian"

  gov=$(go_version)
  mkdir -p "$ctx/golang"
  # Mirrors the official golang:<v>-bookworm image's config (minus gcc & co).
  cat >"$ctx/golang/Dockerfile" <<DF
FROM debian:$DEBIAN_SUITE
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV GOLANG_VERSION=$gov
ENV GOTOOLCHAIN=local
ADD go.tar /usr/local/
ENV GOPATH=/go
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p "\$GOPATH/src" "\$GOPATH/bin" && chmod -R 1777 "\$GOPATH"
WORKDIR /go
DF
  key=$({ echo "$BUILDKIT_VERSION $FIXTURE_FORMAT $debian_key"; basename "$GO_TAR"; cat "$ctx/golang/Dockerfile"; } | sha)
  [[ -f $FIXTURES/images/golang-$key/ok ]] || ln "$GO_TAR" "$ctx/golang/go.tar" 2>/dev/null || cp "$GO_TAR" "$ctx/golang/go.tar"
  local minor=${gov%.*}
  ensure_image golang "$key" "$minor $minor-$DEBIAN_SUITE $gov $gov-$DEBIAN_SUITE" "$ctx/golang"

  bench_all || return 0 # the demo needs no node image and no SBOM scanner

  # node:<major>: debian:bookworm plus Debian's own nodejs and npm (bookworm
  # ships Node.js 18, so it is tagged 18, not lts or 22), with the official
  # image's `node` user (uid/gid 1000) and CMD.
  local node_major
  node_major=$(debian_node_major)
  mkdir -p "$ctx/node"
  cat >"$ctx/node/Dockerfile" <<DF
FROM debian:$DEBIAN_SUITE
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \\
 && rm -rf /var/lib/apt/lists/* \\
 && node --version && npm --version \\
 && case "\$(node --version)" in v$node_major.*) ;; *) echo "nodejs is not $node_major: the machine's apt lists are stale (apt-get update)" >&2; exit 1 ;; esac
CMD ["node"]
DF
  key=$({ echo "$BUILDKIT_VERSION $FIXTURE_FORMAT $debian_key"; debian_pkg_versions nodejs npm; cat "$ctx/node/Dockerfile"; } | sha)
  ensure_image node "$key" "$node_major $node_major-$DEBIAN_SUITE" "$ctx/node"

  # The SBOM scanner BuildKit runs for --sbom and --attest type=sbom, under
  # the name of its default generator (docker/buildkit-syft-scanner): a
  # program on syft built from the Go module proxy (scanner/). Compiling
  # syft takes minutes, so it is built only when the image is not cached.
  local scanner_src="$BENCH_DIR/scanner"
  key=$({ echo "$BUILDKIT_VERSION $FIXTURE_FORMAT"; go version; cat "$scanner_src"/go.mod "$scanner_src"/go.sum "$scanner_src"/*.go "$scanner_src"/build.sh; } | sha)
  [[ -f $FIXTURES/images/scanner-$key/ok ]] || bash "$scanner_src/build.sh" "$ctx/scanner" >/dev/null
  ensure_image scanner "$key" "stable-1 1" "$ctx/scanner" docker/buildkit-syft-scanner
}

main() {
  local mode=${1:-all}
  exec 9>"$FIXTURES/.lock"
  flock 9
  rm -rf "$FIXTURES"/tmp.*
  all_rootfs
  case "$mode" in
    rootfs) ;;
    all) all_images ;;
    *) die "usage: $0 [rootfs|all]" ;;
  esac
}

main "$@"
