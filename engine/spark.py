"""`engine.spark`: coding Spark DataFrames of encounters; see engine.cluster.spark (the extra
infuse[spark]).

Example:
    from engine.spark import code_dataframe
    coded = code_dataframe(spark.read.parquet("claims/"), ruleset="rulesets/")
"""
from engine.cluster.spark import ColumnError, code_dataframe, output_schema

__all__ = ["ColumnError", "code_dataframe", "output_schema"]
