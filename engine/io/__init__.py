"""Records in and out: decoding, batches over worker processes, Parquet, atomic output,
renderers. It imports the core, never analyst/ or cli/."""
