"""Running a scenario: replications, workers, the precision of means; ``simulate`` and ``compare``."""
