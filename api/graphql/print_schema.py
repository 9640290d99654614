"""`python -m api.graphql.print_schema > schemas/schema.graphql`: the schema as SDL."""
import sys

from .schema import sdl

sys.stdout.write(sdl())
