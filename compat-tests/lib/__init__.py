"""The compatibility tests' library: the harness (harness.py, normalise.py, ports.py), config
fragments (fragments.py) and helpers for XML-RPC, inet servers, scripted output and streaming
clients. conftest.py puts compat-tests/ on sys.path, so these import as ``lib.<module>``."""
