"""The infuse rule language: grammar, AST, checker, loader and diagnostics."""
