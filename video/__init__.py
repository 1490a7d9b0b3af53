"""Camera video, free of Qt.

Camera connections (one per camera), packet fan-out to bounded per-consumer queues, display
decoding, recording, the archive reader, evidence export, the relay, analytics and the synthetic
cameras used by the demo and the tests.
"""
