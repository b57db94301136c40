# syntax=docker/dockerfile:1
# The opsfloor image: a multi-stage build. The runtime image holds only the
# binary, CA certificates (from the distroless base) and an empty state directory,
# and runs as a non-root user. Expected size: about 35 MB (README, "Deploying on
# Kubernetes").

# Build: the official Rust image at the MSRV (Cargo.toml rust-version = 1.95), on
# Debian bookworm, the same glibc as the distroless debian12 runtime below.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Symbols stripped and no debug lines: ~11 MB instead of ~68 MB.
ENV CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=symbols
RUN cargo build --release --locked -p opsfloor \
 && mkdir -p /out/state

# Runtime: glibc, libgcc and CA certificates, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/opsfloor /usr/local/bin/opsfloor
COPY --from=build --chown=65532:65532 /out/state /var/lib/opsfloor
# 65532 is distroless's "nonroot"; numeric, so Kubernetes' runAsNonRoot can check it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/opsfloor"]
# Inside a container the floor must listen on 0.0.0.0, not its loopback default,
# or nothing outside the container reaches it; off loopback the floor refuses to
# start without access control, so mount an [access] file (SECURITY.md) at
# /etc/opsfloor/access.toml (or override CMD with --insecure-public on purpose).
CMD ["serve", "--config", "/etc/opsfloor/inventory.toml", "--listen", "0.0.0.0:8080", "--access", "/etc/opsfloor/access.toml", "--db", "/var/lib/opsfloor/history.sqlite"]
