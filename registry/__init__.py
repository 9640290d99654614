"""The registry core: storage, git, metadata and use cases. Imports no web or queue library."""
