"""A CKAN-compatible Action API at /api/3/action/{name} and /api/action/{name}.

Existing clients and harvesters (ckanapi, CKAN harvesters) read the hub as a CKAN portal: the
`{help, success, result}` envelope, CKAN's error `__type` strings and status codes, GET with
query parameters or POST with a JSON body, the token in `Authorization` or `X-CKAN-API-Key`.
A dataset is a CKAN package named `{org}__{dataset}`; its table is the datastore resource of
the same id.
"""

from .front import router

__all__ = ["router"]
