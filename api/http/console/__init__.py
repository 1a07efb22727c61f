"""The staff console at /ui: Chinese web screens for window clerks, the hotline, auditors and
enterprises, served by the API's own process and calling the same deciders and queries.

`mount.install(app, settings)` adds the routes, the static files and the two page-level refusals
(sign in first; not for your role); `open_console` (in `web`) opens its tables at start.
"""
