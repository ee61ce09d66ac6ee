"""The `pocopool` command."""
