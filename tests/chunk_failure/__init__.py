"""A test app for the spawned chunk processes (tests/metrics/test_run_processes.py): installed
only by ``tests.chunk_failure.settings``, which the test hands to the processes it spawns, so
that every chunk graded in a chunk process fails (a monkeypatch would not reach them)."""
