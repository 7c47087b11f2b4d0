"""Loads ``whoosh.reading`` without asyncio (``whoosh_fixes.light_reading``).

Its own module so the engine's door imports it first, before any whoosh
module that reads an index, while ``highlights`` (which needs only
whoosh's analysis) never loads it.
"""

from paperdesk.search import whoosh_fixes

whoosh_fixes.light_reading()
