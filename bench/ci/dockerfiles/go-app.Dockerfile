# examples/go-app as Docker's documentation recommends writing it: cache
# mounts for Go's module and build caches, bind mounts for the sources,
# cross-compiled on the build platform.
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    go mod download
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags=-s -o /out/app .

FROM scratch AS runtime
COPY --from=build /out/app /usr/local/bin/app
USER 65532:65532
EXPOSE 8080/tcp
ENTRYPOINT ["/usr/local/bin/app"]
