"""Start and stop a whole local pocopool: chain, scheduler, result store, file server, workers."""
