"""``tcli repl``: the interactive tensor session (engine: running code and commands; display: showing values)."""
