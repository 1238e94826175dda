"""The run-time core: the encounter model, the pipeline and its stages, compiled and reference
deciders, the registry of rulesets. It imports dsl/ only, never another layer of engine/."""
