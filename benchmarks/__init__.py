"""socialview.benchmarks: overlap sweep, migration and performance benchmarks, and the CLI."""
