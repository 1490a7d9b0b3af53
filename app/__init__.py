"""The running terminal, free of Qt: one composition layer that the desktop and the headless
commands share (store, cameras, recording, relay, analytics, sync engine, warning monitor, the
single writer for user actions), and one lifecycle for every service."""
