"""The language server of the rule language (`infuse lsp`, with the extra `infuse[lsp]`).

server.py wires pygls to small pure modules, each answering one kind of question from a
ruleset folder as the editor's buffers have it:

- workspace: which folder a file belongs to; analyse it (load, check, analyse) with the
  open buffers standing in for files on disk;
- positions: LSP positions (0-based, UTF-16) to and from spans (1-based code points);
- index: the definitions and references of every name, from the parsed statements;
- diagnostics: dsl diagnostics as LSP diagnostics, did-you-mean hints as quick fixes;
- hover, complete, symbols: what to show for a hover, a completion, the outline.
"""
