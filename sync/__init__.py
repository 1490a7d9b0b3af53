"""Synchronisation with the central supervision server, free of Qt.

- ``sync.client``: ``SyncClient`` speaks the wire (``shared/sync-protocol.md``) — one HTTP session,
  timed requests, verified TLS, gzip both ways, retries with jittered backoff and ``Retry-After``,
  and one typed error per way a call can fail (``Unauthorized``, ``Forbidden``, ``Gone``,
  ``TooLarge``, ``RequestRejected``, ``ServerError``, ``Offline``, ``CertificateError``,
  ``ProtocolError``, all ``SyncError``).
- ``sync.engine``: ``SyncEngine`` runs rounds on its own thread — push the outbox, heartbeat, pull
  the change feed page by page into the store (each page with its cursor in one transaction), full
  resync on ``410`` — and publishes a frozen ``SyncStatus`` to listeners.
- ``sync.server``: the reference central server and its traffic simulator.

Import from the submodules; this package imports nothing, so the server does not load the client.
"""
