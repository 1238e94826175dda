// Starts `infuse lsp` (stdio) for .rules files. The command is the setting `infuse.command`
// (default: `infuse lsp` from PATH; point it at a virtual environment's infuse otherwise).
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("infuse").get("command") || ["infuse", "lsp"];
  const server = { command, args, options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath } };
  client = new LanguageClient(
    "infuse",
    "infuse language server",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "infuse" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.rules") },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
