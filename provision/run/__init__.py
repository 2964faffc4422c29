"""Running a plan: the runner, its lock, log, progress and recap."""
