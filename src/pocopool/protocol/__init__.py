"""The protocol's own language: statuses, causes, transitions, ids, hashes, signatures, deadlines.

Pure domain: nothing in this package performs I/O. Every other package speaks it.
"""
