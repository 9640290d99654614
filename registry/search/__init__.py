"""Gallery search: a SearchIndex protocol and its whoosh implementation."""
from .base import SORTS, SearchDoc, SearchHit, SearchIndex, SearchQuery, SearchResults
from .whoosh_index import WhooshIndex

__all__ = ["SORTS", "SearchDoc", "SearchHit", "SearchIndex", "SearchQuery", "SearchResults", "WhooshIndex"]
