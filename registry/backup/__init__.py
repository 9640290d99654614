"""Backups of a whole registry (`registry backup`, `restore`, `verify`): the metadata, every
pack and each template's refs document, with a manifest of checksums (archive.py says the layout,
take.py why the order makes a backup consistent under concurrent pushes)."""
