"""The API's pagination: DRF's limit/offset, with the page size capped.

Without a cap, ``?limit=`` is passed to SQL as is, and a limit past PostgreSQL's bigint range
is a 500 (found by tests/security/test_api_fuzz.py). A larger ``limit`` is cut to ``max_limit``
as DRF does; ``next`` links to the rest. Offsets past the end already give an empty page.
"""

from rest_framework.pagination import LimitOffsetPagination


class CappedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000
