"""Where the real register images are: ``../shared/real-pages/`` beside the repository.

They are openly licensed archive images (origins and licences in that folder's
``SOURCES.md``), never copied into the repository; a test that needs them is skipped
with this path in its reason when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

REAL_PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "real-pages"
