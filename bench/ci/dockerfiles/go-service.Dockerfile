# e2e/testdata/projects/go-service as Docker's documentation recommends
# writing it: cache mounts for Go's module and build caches, bind mounts for
# the sources, cross-compiled on the build platform.
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags=-s -o /out/go-service .

FROM scratch AS runtime
COPY --from=build /out/go-service /usr/local/bin/go-service
USER 65532:65532
EXPOSE 8080/tcp 9090/tcp
ENTRYPOINT ["/usr/local/bin/go-service"]
