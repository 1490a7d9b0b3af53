"""Synchronisation with the central supervision server, free of Qt.

The sync client (pull pages, push the outbox, heartbeat) and, in ``sync.server``, the reference
central server with its traffic simulator. The wire contract is ``shared/sync-protocol.md``.
"""
