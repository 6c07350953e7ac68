"""rp sweep: `cells` turns a sweep cell into its Recipe, `driver` plans every cell and registers what workers
stage, `executors` run the builds (local processes or Ray), `worker` stages one build in a worker."""
