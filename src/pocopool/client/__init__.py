"""Requester SDK: deploy apps and datasets, run deals, follow, debug and download tasks."""
