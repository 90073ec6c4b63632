# A Python-free image: our two static binaries COPYed into `scratch`, with busybox for a
# web server (httpd) and a shell worker, each run as its own user (docker/static/).
#
# Build from the repository root:  docker build -f docker/static.Dockerfile -t supervisord-static .
# Run:                             docker run --rm -p 8080:8080 supervisord-static
#
# The builder is Alpine's Rust: its native target is musl, linked statically by default, so
# target/release/ holds binaries that need no C library at all. Any other image takes them
# the same way: `COPY --from=builder /src/target/release/supervisor* /usr/local/bin/`.
# compat-tests/container/test_static_pid1.py builds this final stage's root file system and
# runs its CMD as PID 1 in new namespaces; test_dockerfiles.py checks this file.

# ---- stage 1: the static binaries ----
FROM rust:1-alpine AS builder
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked

# ---- busybox: a shell and httpd for the programs (itself static) ----
FROM busybox:1.36-musl AS busybox

# ---- the image: no C library, no Python ----
FROM scratch
COPY --from=busybox /bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/mkdir", "-p", "/tmp", "/var/lib/worker"]
RUN ["/bin/chmod", "1777", "/tmp"]
COPY docker/static/passwd docker/static/group /etc/
COPY docker/static/supervisord.conf /etc/supervisord.conf
COPY --from=builder /src/target/release/supervisord /src/target/release/supervisorctl /usr/local/bin/
ENV PATH=/usr/local/bin:/bin
CMD ["supervisord", "-c", "/etc/supervisord.conf"]
