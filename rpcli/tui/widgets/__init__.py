"""Dashboard widgets: thin Textual wrappers over the plain data in rpcli.tui.rows and rpcli.workspace.leaderboard."""
