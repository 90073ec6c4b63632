# The tutorial's image with our wheel in place of Python's supervisor: the user's
# requirements.txt with one line changed (`supervisor==4.2.5` -> `supervisor-rs==0.1.0`,
# docker/tutorial/requirements.txt). pip puts our native supervisord and supervisorctl in
# /usr/local/bin; there is no Python supervisor package in the image and nothing is copied
# over a script. The app files are the user's, unchanged (conf/tutorial/).
#
# Build from the repository root:  docker build -f docker/tutorial.Dockerfile -t tutorial-wheel .
# Run:                             docker run --rm -p 5001:5001 tutorial-wheel
#
# Once the package is on the index, stage 1 and `--find-links` go: the requirement line
# alone installs it. compat-tests/container/test_dockerfiles.py checks this file;
# test_wheel_tutorial.py installs the same requirements with the wheel into a fresh venv
# and runs the tutorial with it as PID 1.

# ---- stage 1: the wheel (maturin, from the crate) ----
FROM rust:1-slim-bookworm AS builder
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv \
    && python3 -m venv /opt/maturin \
    && /opt/maturin/bin/pip install --no-cache-dir maturin==1.16.0
WORKDIR /src
COPY pyproject.toml README.md Cargo.toml Cargo.lock ./
COPY src ./src
RUN /opt/maturin/bin/maturin build --release --locked --out /wheels

# ---- stage 2: the tutorial's image ----
FROM python:3.10-slim

# Set the working directory inside the container to /app
WORKDIR /app

# Copy the requirements.txt file into the container
COPY docker/tutorial/requirements.txt .

# Install Python dependencies listed in requirements.txt without caching to reduce image size
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --find-links /wheels -r requirements.txt

# Copy all remaining application files into the container
COPY conf/tutorial/main.py conf/tutorial/monitor_memory.py conf/tutorial/supervisord.conf ./

# Start supervisord with the specified configuration file (FastAPI App and monitor_memory.py)
CMD ["supervisord", "-c", "/app/supervisord.conf"]
