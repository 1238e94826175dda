"""`engine.dask`: coding Dask DataFrames and Bags of encounters; see engine.cluster.dask (the
extra infuse[dask]).

Example:
    from engine.dask import code_dataframe
    coded = code_dataframe(dd.read_parquet("claims/", dtype_backend="pyarrow"), ruleset="rulesets/")
"""
from engine.cluster.dask import ColumnError, code_bag, code_dataframe

__all__ = ["ColumnError", "code_bag", "code_dataframe"]
