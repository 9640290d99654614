"""A/B experiments on a template's variants (refs): the statistics that judge them (`stats`),
and what one trial unit of an experiment is (`plan`). Web- and queue-free like the rest of the core."""
