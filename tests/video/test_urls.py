"""Credentials in camera addresses never reach a log line, a state or an error message."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from video.urls import MaskingFilter, SourceKind, kind_of, mask_text, mask_url, redact


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:S3cret!@10.0.0.7:554/ch1", "rtsp://***@10.0.0.7:554/ch1"),
        ("rtsp://admin@10.0.0.7/ch1", "rtsp://***@10.0.0.7/ch1"),
        ("http://u:p%40ss@cam.local/video.ts", "http://***@cam.local/video.ts"),
        ("http://cam.local/video.cgi?user=admin&pwd=hunter22&res=1", "http://cam.local/video.cgi?user=***&pwd=***&res=1"),
        ("rtsp://10.0.0.7/ch1", "rtsp://10.0.0.7/ch1"),
        ("/srv/footage/a.ts", "/srv/footage/a.ts"),
    ],
)
def test_mask_url_hides_user_and_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_text_masks_urls_inside_messages() -> None:
    text = "[Errno 111] Connection refused: 'rtsp://admin:S3cret@10.0.0.7/ch1' and http://a:b@h/x?token=abc"
    out = mask_text(text)
    assert "S3cret" not in out and "admin" not in out and "abc" not in out
    assert "rtsp://***@10.0.0.7/ch1" in out


def test_redact_removes_bare_user_and_password() -> None:
    url = "rtsp://operator:Pa55word@10.0.0.7/ch1"
    out = redact("401 for user 'operator' with password Pa55word at " + url, url)
    assert "Pa55word" not in out and "operator" not in out


@given(
    user=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=3, max_size=12),
    # "*" is the mask's own character: a password of stars would be "found" in the mask itself.
    password=st.text(st.characters(codec="ascii", categories=["L", "N", "P"], exclude_characters="@/?#%[]*"),
                     min_size=3, max_size=16),
)
def test_masking_never_leaks_any_credentials(user: str, password: str) -> None:
    url = f"rtsp://{user}:{password}@192.168.1.20:554/Streaming/Channels/101"
    assert urlsplit(mask_url(url)).netloc == "***@192.168.1.20:554"
    assert urlsplit(mask_text(f"opening {url}").split()[-1]).netloc == "***@192.168.1.20:554"
    # No case is discarded: a password that also occurs in the address's public part ("tsp" of
    # "rtsp", "192") is replaced there too, so it appears nowhere in the result.
    assert password not in redact(f"failed: {url!r} (user {user}, password {password})", url)


def test_logging_filter_masks_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    handler = logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    record = logger.makeRecord("t", logging.ERROR, __file__, 1, "cannot open %s", ("rtsp://a:topsecret@h/x",), None)
    assert handler.filter(record)
    assert "topsecret" not in record.getMessage()
    try:
        raise OSError("boom rtsp://a:topsecret@h/x")
    except OSError:
        import sys

        rec2 = logger.makeRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    handler.filter(rec2)
    assert rec2.exc_text is not None and "topsecret" not in rec2.exc_text


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("rtsp://h/x", SourceKind.RTSP),
        ("https://h/x.ts", SourceKind.HTTP),
        ("rtmp://h/live/a", SourceKind.RTMP),
        ("/tmp/a.ts", SourceKind.FILE),
        ("file:///tmp/a.ts", SourceKind.FILE),
        ("synthetic://window/A01", SourceKind.SYNTHETIC),
    ],
)
def test_kind_of_names_the_source_kind(url: str, kind: SourceKind) -> None:
    assert kind_of(url) is kind


def test_kind_of_rejects_an_unknown_scheme_by_name() -> None:
    with pytest.raises(ValueError, match="'gopher'"):
        kind_of("gopher://h/x")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:secret#frag@127.0.0.1:8554/x", "rtsp://***@127.0.0.1:8554/x"),
        ("RTSP://admin:secret@127.0.0.1/x", "RTSP://***@127.0.0.1/x"),
        ("rtsp://admin:a/b?c@127.0.0.1/x", "rtsp://***@127.0.0.1/x"),
        ("https://cdn.local/live.ts?sig=abc123&exp=9", "https://cdn.local/live.ts?sig=***&exp=9"),
        ("http://h/x?access_token=abc#frag&pwd=p#q", "http://h/x?access_token=***&pwd=***"),
    ],
)
def test_masking_does_not_depend_on_how_a_parser_splits_the_url(url: str, masked: str) -> None:
    """Issue 13 item 2: a "#" or "/" in the password, a sig= value, a scheme in capitals."""
    assert mask_url(url) == masked
    assert mask_text(f"cannot open '{url}'") == f"cannot open '{masked}'"
    if "admin:" in url:
        password = url.split("admin:", 1)[1].rsplit("@", 1)[0]
        assert password not in redact(f"user admin password {password}: {url}", url)
