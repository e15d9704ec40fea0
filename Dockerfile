# The tomlfront frontend image: one static binary, run by BuildKit.
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t REPO/tomlfront:1 --push .
#
# No syntax line: the Dockerfile frontend built into BuildKit builds it, so
# nothing but the base image is pulled.
ARG GO_VERSION=1.26

# An empty module cache by default. Builders that already have the modules
# pass them with --build-context gomodcache=$(go env GOMODCACHE)/cache/download
# and skip the download.
FROM scratch AS gomodcache

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,from=gomodcache,target=/gomodcache \
    GOPROXY="file:///gomodcache,$(go env GOPROXY)" go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/tomlfront ./cmd/tomlfront

FROM scratch
COPY --from=build /out/tomlfront /bin/tomlfront
LABEL moby.buildkit.frontend.network.none="true" \
      moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ENTRYPOINT ["/bin/tomlfront"]
