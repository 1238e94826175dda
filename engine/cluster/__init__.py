"""Coding on a cluster: Apache Spark (engine.cluster.spark, the extra infuse[spark]) and Dask
(engine.cluster.dask, the extra infuse[dask]), both over the one batch function of
engine.cluster.partitions. Only the command line imports this package; an embedder imports
the module of the cluster it runs on (or `engine.spark` / `engine.dask`, the same).
"""
