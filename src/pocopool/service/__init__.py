"""The one skeleton every HTTP service of pocopool (scheduler, result store, SMS, later the order
book) is built from (DESIGN §2): `database` opens a store's database (URL rules, SQLite pragmas,
Alembic), `server` serves an ASGI app until told to stop, `errors` maps typed domain errors to HTTP
once with one error body, `secrets` keeps 0600 secret files, `startup` fails at start in one line.

A leaf below the services: it imports only `protocol` and the libraries, never a service.
"""
