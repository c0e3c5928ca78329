# syntax=docker/dockerfile:1
# Build: a static binary (no cgo), so the final image needs no libc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/natsbc ./cmd/natsbc
# The state file's directory, made here: the final image has no shell.
RUN mkdir -p /out/state

# Run: distroless static, as an unprivileged user. Binding 5060 (< 1024 is
# not needed) and RTP ports needs no capability.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/natsbc /usr/local/bin/natsbc
# Registrations survive a restart of the container only on a volume (README
# "State on disk"); owned by the user natsbc runs as, which must write it.
COPY --from=build --chown=nonroot:nonroot /out/state /var/lib/natsbc
VOLUME /var/lib/natsbc
USER nonroot:nonroot
EXPOSE 5060/udp 5060/tcp
ENTRYPOINT ["/usr/local/bin/natsbc"]
