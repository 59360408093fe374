"""The one place that decides how a PDF is written.

Every PDF the station produces is saved here, so that object streams, compression,
the PDF version and determinism are the same for every file and change in one place.
"""

from __future__ import annotations

import io

import pikepdf

#: PDF 1.5 is the first with object streams; every viewer in the field reads it.
MIN_VERSION = "1.5"


def save_pdf(pdf: pikepdf.Pdf) -> bytes:
    """Serialise ``pdf`` compactly and deterministically and return its bytes.

    Image streams are written as they are (never re-encoded: they were chosen by the
    encoding ladder for size and legibility); only the small dictionaries are packed
    into compressed object streams.
    """
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        min_version=MIN_VERSION,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,
        stream_decode_level=pikepdf.StreamDecodeLevel.none,
        recompress_flate=False,
        deterministic_id=True,
        linearize=False,
    )
    return buffer.getvalue()
