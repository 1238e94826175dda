"""Tools for policy analysts: explain, diff, coverage, ruleset test cases, table export. They
import the core (and dsl/), never io/ or cli/."""
