"""IVR flows as data: the schema, the loader of the lines' YAML files, the prompt texts
administrators edit, and the production flows. The engine that runs them is ``ivr/flows/``."""
