# The tutorial's image with our supervisord in place of Python's.
#
# Build from the repository root:  docker build -t tutorial-rs .
# Run:                             docker run --rm -p 5001:5001 tutorial-rs
#
# Stage 2 is the tutorial's own Dockerfile, unchanged except that the app
# files come from conf/tutorial/ and our binary is copied over the
# supervisord script that pip installs with supervisor 4.2.5 (the stock
# supervisorctl stays: the tutorial's monitor calls it).
# compat-tests/container/test_dockerfile.py checks this file.

# ---- stage 1: build the daemon ----
FROM rust:1-slim-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked

# ---- stage 2: the tutorial's image ----
FROM python:3.10-slim

# Set the working directory inside the container to /app
WORKDIR /app

# Copy the requirements.txt file into the container
COPY conf/tutorial/requirements.txt .

# Install Python dependencies listed in requirements.txt without caching to reduce image size
RUN pip install --no-cache-dir -r requirements.txt

# Our daemon replaces the supervisord script pip just installed
COPY --from=builder /src/target/release/supervisord /usr/local/bin/supervisord

# Copy all remaining application files into the container
COPY conf/tutorial/ .

# Start supervisord with the specified configuration file (FastAPI App and monitor_memory.py)
CMD ["supervisord", "-c", "/app/supervisord.conf"]
