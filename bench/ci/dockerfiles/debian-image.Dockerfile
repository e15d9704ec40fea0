# e2e/testdata/projects/debian-image as Docker's documentation recommends
# writing it: apt's archives and lists in locked cache mounts, the image's
# docker-clean removed so that downloaded packages stay.
FROM debian:bookworm AS image
RUN rm -f /etc/apt/apt.conf.d/docker-clean; \
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  bash-completion bzip2 curl dnsutils file git iproute2 iputils-ping jq less \
  lsof make netcat-openbsd openssh-client procps python3 rsync strace tree \
  unzip vim-tiny wget xz-utils zip
COPY --chmod=0755 motd.sh /usr/local/bin/motd
CMD ["/usr/local/bin/motd"]
