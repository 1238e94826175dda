"""How long after an edit the language server publishes diagnostics for the full 2026 folder.

Starts `infuse lsp` as an editor would (stdio), opens a copy of rulesets/2026/service.rules,
then edits it ROUNDS times (a bound of one row flips between `push_limit` and a literal, so
each edit changes what the checker and the analyses see) and measures the time from
sending each didChange to receiving the publishDiagnostics of that file, in two rhythms:

- an edit after a pause (0.5 s after the previous diagnostics): analysed at once;
- an edit while typing (0.05 s after): the server waits out its debounce
  (engine.lsp.server.DEBOUNCE) first, and the figure includes it.

Both are what an analyst waits; the target (300 ms) is for both.

Usage: python bench/lsp_latency.py [--rounds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300
SERVER = [sys.executable, "-c", "import sys; from engine.cli.main import main; sys.exit(main(['lsp']))"]


async def measure(rounds: int, pause: float) -> list[float]:
    folder = Path(tempfile.mkdtemp()) / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", folder)
    path = folder / "service.rules"
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    client = LanguageClient("bench", "1")
    published: asyncio.Queue = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams):
        if params.uri == uri:
            published.put_nowait(time.perf_counter())

    await client.start_io(*SERVER, cwd=str(ROOT))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="infuse", version=1, text=text)))
    await asyncio.wait_for(published.get(), 30)  # the first analysis builds the parser
    times = []
    for version in range(2, rounds + 2):
        edited = text.replace("> push_limit", "> 20 min", 1) if version % 2 else text
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=edited)]))
        arrived = await asyncio.wait_for(published.get(), 30)
        times.append((arrived - sent) * 1000)
        await asyncio.sleep(pause)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    shutil.rmtree(folder.parent, ignore_errors=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    from engine.lsp.server import DEBOUNCE
    variants = len(list((ROOT / "rulesets/2026/payers").glob("*.rules")))
    print(f"infuse lsp: didChange -> publishDiagnostics, rulesets/2026 (base + {variants} payer variants), "
          f"{args.rounds} edits each")
    for label, pause in (("after a pause", 0.5), (f"while typing (debounce {DEBOUNCE * 1000:.0f} ms included)", 0.05)):
        times = sorted(asyncio.run(measure(args.rounds, pause)))
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"  {label}: median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms; "
              f"target {TARGET_MS} ms {'met' if p95 <= TARGET_MS else 'NOT met'} (p95)")
    print(f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
