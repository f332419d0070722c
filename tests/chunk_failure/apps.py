from django.apps import AppConfig

FAILURE = "chunk {index} is broken in a chunk process"


class ChunkFailureConfig(AppConfig):
    name = "tests.chunk_failure"
    label = "chunk_failure"

    def ready(self) -> None:
        import metrics.runs as runs

        def compute_chunk(*, run_id: int, index: int) -> bool:
            raise ValueError(FAILURE.format(index=index))

        runs.compute_chunk = compute_chunk  # type: ignore[assignment]
