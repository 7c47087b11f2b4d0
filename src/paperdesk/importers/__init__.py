"""Readers of every input shape (``formats``) and the import pipeline (``pipeline``).

This package's own module holds only what callers need without loading a
parser: the name and size limit of standard input.
"""

STDIN_NAME = "(standard input)"
# Standard input is read whole (it cannot be streamed twice); a bigger dump goes in a file.
MAX_STDIN_BYTES = 256 * 2**20
